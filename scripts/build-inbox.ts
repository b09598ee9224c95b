/**
 * Builds the inbox page Herald serves at `/` from apps/inbox: index.html and assets/inbox.{js,css}, one minified
 * bundle with React and Herald's client inside, written into packages/server/dist/inbox so that the page ships in
 * @herald/server's tarball beside the code that serves it. `npm run build:inbox` runs it; the browser tests call
 * buildInbox() so they never drive a stale page.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const appDir = fileURLToPath(new URL('../apps/inbox/', import.meta.url));

/** Where Herald looks for the page (DEFAULT_INBOX_ROOT in packages/server/src/http/inbox-page.ts). */
export const inboxDistDir = fileURLToPath(new URL('../packages/server/dist/inbox/', import.meta.url));

export async function buildInbox(outDir: string = inboxDistDir): Promise<void> {
  const result = await build({
    entryPoints: { inbox: join(appDir, 'src/main.tsx') },
    // The app's tsconfig maps @herald/* to their sources, so the bundle does not wait for `tsc -b`.
    tsconfig: join(appDir, 'tsconfig.json'),
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    outdir: join(outDir, 'assets'),
    write: false,
    logLevel: 'warning',
  });
  const files = [
    ...result.outputFiles.map((file) => ({ path: file.path, contents: file.contents })),
    { path: join(outDir, 'index.html'), contents: await readFile(join(appDir, 'index.html')) },
  ];
  await Promise.all(files.map((file) => writeAtomically(file.path, file.contents)));
}

/** Rename over the old file, so that a server (or a second build) never sees half a file. */
async function writeAtomically(path: string, contents: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, path);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildInbox();
  console.log(`inbox page built into ${inboxDistDir}`);
}
