/**
 * Herald's four packages as a user gets them: built, packed with `npm pack`, installed from those tarballs into an
 * empty project (third-party dependencies from the registry), then used there: each entry imported, the installed
 * types compiled against, `herald --version` and `herald token` run, and `herald start` serving `/`, its assets and
 * `/healthz` from the installed @herald/server before it is stopped with SIGTERM.
 *
 * Before packing, the rules of scripts/package-rules.ts: each manifest has what a published package needs and the
 * one shared version (scripts/set-version.mjs sets it), and each build ships only what it should.
 *
 * `npm run check:packages` (tsx scripts/check-packages.ts); `--keep` leaves the temporary directory, `--no-build`
 * packs what is built already. It prints a line per step, and on the first failure one line
 * `check-packages: FAILED: ...` and exits 1.
 */
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildProblems, manifestProblems, PACKAGES } from './package-rules.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** One export each entry must have: an import that resolves to an empty or wrong module fails here. */
const ENTRY_EXPORTS: Record<string, string> = {
  '@herald/protocol': 'CloseCode',
  '@herald/client': 'HeraldClient',
  '@herald/react': 'useNotifications',
  '@herald/server': 'Herald',
};
const STEP_TIMEOUT_MS = 10 * 60_000;
const keep = process.argv.includes('--keep');
const build = !process.argv.includes('--no-build');

class CheckFailed extends Error {}
const failIf = (condition: boolean, message: string): void => {
  if (condition) throw new CheckFailed(message);
};
const step = (text: string): void => console.log(`check-packages: ${text}`);

/** Runs a command to completion; a non-zero exit fails the check with its last output lines. */
function run(command: string, args: string[], options: SpawnSyncOptions = {}): string {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: STEP_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    if (output) console.error(output);
    throw new CheckFailed(`\`${command} ${args.join(' ')}\` exited with ${result.status ?? result.signal ?? result.error?.message}`);
  }
  return String(result.stdout);
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

function checkRules(): string {
  const problems = [...manifestProblems(ROOT), ...buildProblems(ROOT)];
  if (problems.length > 1) for (const problem of problems) console.error(`check-packages: ${problem}`);
  failIf(problems.length > 0, `${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more, listed above)` : ''}`);
  const { version } = readJson<{ version: string }>(join(ROOT, 'packages/server/package.json'));
  step(`manifests, LICENSE, README, CHANGELOG and builds of ${PACKAGES.length} packages agree (version ${version})`);
  return version;
}

interface PackedEntry {
  name: string;
  filename: string;
  files: Array<{ path: string }>;
}

function pack(into: string): Record<string, string> {
  const args = ['pack', '--json', '--pack-destination', into, ...PACKAGES.flatMap((name) => ['--workspace', `packages/${name}`])];
  const packed = JSON.parse(run('npm', args, { cwd: ROOT })) as PackedEntry[];
  const tarballs: Record<string, string> = {};
  for (const entry of packed) {
    const files = entry.files.map((file) => file.path);
    for (const needed of ['package.json', 'README.md', 'LICENSE']) failIf(!files.includes(needed), `${entry.name}'s tarball has no ${needed}`);
    const stray = files.find((file) => /^(src|test)\/|\.tsbuildinfo$/.test(file));
    failIf(stray !== undefined, `${entry.name}'s tarball ships ${stray}`);
    tarballs[entry.name] = join(into, entry.filename);
    if (entry.name === '@herald/server') {
      for (const needed of ['bin/herald.js', 'dist/cli.js', 'dist/inbox/index.html', 'dist/inbox/assets/inbox.js']) {
        failIf(!files.includes(needed), `@herald/server's tarball has no ${needed}`);
      }
    }
  }
  failIf(Object.keys(tarballs).length !== PACKAGES.length, `npm pack made ${Object.keys(tarballs).length} tarballs, not ${PACKAGES.length}`);
  step(`packed ${Object.values(tarballs).map((file) => relative(into, file)).join(', ')}`);
  return tarballs;
}

function install(project: string, tarballs: Record<string, string>): void {
  const devTypes = readJson<{ devDependencies: Record<string, string> }>(join(ROOT, 'package.json')).devDependencies;
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'herald-install-check', private: true, type: 'module' }, null, 2)}\n`);
  // The types the installed declarations refer to (Node's and React's), as a TypeScript user would have them.
  const typePackages = ['@types/node', '@types/react'].map((name) => `${name}@${devTypes[name]}`);
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...Object.values(tarballs), ...typePackages], { cwd: project });
  step('installed the tarballs into an empty project');
}

function checkImports(project: string, version: string): void {
  const script = Object.entries(ENTRY_EXPORTS)
    .map(([name, exported]) => `if (!('${exported}' in await import('${name}'))) throw new Error('${name} has no export ${exported}');`)
    .join('\n');
  run(process.execPath, ['--input-type=module', '-e', script], { cwd: project });
  writeFileSync(join(project, 'check.ts'), `${Object.entries(ENTRY_EXPORTS).map(([name, exported]) => `import { ${exported} } from '${name}';`).join('\n')}\nexport const used = [${Object.values(ENTRY_EXPORTS).join(', ')}];\n`);
  const tsconfig = { compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2024', strict: true, noEmit: true, types: ['node'] }, files: ['check.ts'] };
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(tsconfig));
  run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: project });
  const printed = run(join(project, 'node_modules/.bin/herald'), ['--version'], { cwd: project }).trim();
  failIf(printed !== version, `the installed herald --version printed ${JSON.stringify(printed)}, not ${version}`);
  step(`imported ${Object.keys(ENTRY_EXPORTS).join(', ')}; their types compile; herald --version is ${version}`);
}

/** `herald start` from the installed package: serves `/` (the page shipped inside it) and /healthz, stops on SIGTERM. */
async function checkServer(project: string): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_DATA_DIR: join(project, 'data'), NODE_ENV: 'development' };
  for (const name of Object.keys(env)) if (name.startsWith('HERALD_') && !['HERALD_HOST', 'HERALD_PORT', 'HERALD_DATA_DIR'].includes(name)) delete env[name];
  const token = run(join(project, 'node_modules/.bin/herald'), ['token', 'alice', '--ttl', '5m'], { cwd: project, env }).trim();
  failIf(!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token), 'the installed herald token printed no token');

  const child = spawn(join(project, 'node_modules/.bin/herald'), ['start'], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new CheckFailed('the installed herald start did not log "Herald is listening" within 30 s')), 30_000);
      const onData = (chunk: Buffer): void => {
        output += chunk;
        for (const line of output.split('\n')) {
          try {
            const entry = JSON.parse(line) as { msg?: unknown; url?: string };
            if (entry.msg === 'Herald is listening' && typeof entry.url === 'string') {
              clearTimeout(timer);
              resolve(entry.url);
            }
          } catch {
            // Not a log line.
          }
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', (chunk: Buffer) => (output += chunk));
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new CheckFailed(`the installed herald start exited (${code ?? signal}) before listening: ${output.trim().split('\n').slice(-3).join(' | ')}`));
      });
    });
    const page = await fetch(`${url}/`);
    const html = await page.text();
    failIf(page.status !== 200 || !html.includes('/assets/inbox.js'), `GET / from the installed server answered ${page.status}: ${html.slice(0, 80).trim()}`);
    const asset = await fetch(`${url}/assets/inbox.js`);
    failIf(asset.status !== 200 || (await asset.arrayBuffer()).byteLength < 1000, `GET /assets/inbox.js from the installed server answered ${asset.status}`);
    const health = await fetch(`${url}/healthz`);
    failIf(health.status !== 200, `GET /healthz from the installed server answered ${health.status}`);
    await health.arrayBuffer();
    const inbox = await fetch(`${url}/notifications/unread-count`, { headers: { authorization: `Bearer ${token}` } });
    failIf(inbox.status !== 200, `GET /notifications/unread-count with the installed herald token answered ${inbox.status}`);
    await inbox.arrayBuffer();
    child.kill('SIGTERM');
    const stopped = await Promise.race([exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 15_000))]);
    if (stopped === undefined) throw new CheckFailed('the installed herald start did not stop within 15 s of SIGTERM');
    failIf(stopped.code !== 0, `the installed herald start exited with ${stopped.code ?? stopped.signal} on SIGTERM`);
    step(`herald start from the installed @herald/server served /, its assets, /healthz and a token's inbox at ${url}, and stopped on SIGTERM`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

const work = mkdtempSync(join(tmpdir(), 'herald-check-packages-'));
const started = Date.now();
try {
  if (build) {
    step('building (npm run build)');
    run('npm', ['run', 'build'], { cwd: ROOT });
  }
  const version = checkRules();
  const tarballs = pack(work);
  const project = join(work, 'project');
  mkdirSync(project);
  install(project, tarballs);
  checkImports(project, version);
  await checkServer(project);
  const sizes = Object.values(tarballs).map((file) => `${Math.round(statSync(file).size / 1024)} KiB`);
  step(`ok: 4 packages (${sizes.join(', ')}) install and run from their tarballs, in ${Math.round((Date.now() - started) / 1000)} s`);
} catch (error) {
  console.error(`check-packages: FAILED: ${error instanceof CheckFailed ? error.message : (error as Error).stack}`);
  process.exitCode = 1;
} finally {
  if (keep || process.exitCode) console.error(`check-packages: the packed and installed files are in ${work}`);
  if (!keep && !process.exitCode) rmSync(work, { recursive: true, force: true });
}
