import { readFileSync } from 'node:fs';

/**
 * Herald's version, read from @herald/server's own package.json: the one place a release sets it (the four
 * packages share it, and a test keeps them equal). Both src/ (tests) and dist/ (the build, the installed package)
 * sit one level below that file, so the same relative path works in the repository and in an installed tarball.
 */
export const HERALD_VERSION: string = readVersion(new URL('../package.json', import.meta.url));

function readVersion(file: URL): string {
  const { version } = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
  if (typeof version !== 'string' || version === '') throw new Error(`${file.pathname} has no version`);
  return version;
}
