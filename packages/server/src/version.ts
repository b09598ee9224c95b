import { readFileSync } from 'node:fs';

/**
 * @herald/server's own package.json: the one place a release sets Herald's version (the four packages share it,
 * and scripts/check-packages.mjs refuses a mismatch). Both src/ (tests) and dist/ (the build, the installed
 * package) sit one level below that file, so the same relative path works in the repository and in an installed
 * tarball.
 */
const manifest = readManifest(new URL('../package.json', import.meta.url));

/** Herald's version, as `herald --version`, herald_build_info and the OpenAPI document give it. */
export const HERALD_VERSION: string = manifest.version;

/** Herald's README, online: where the CLI's help points for the configuration table. */
export const HERALD_HOMEPAGE: string = manifest.homepage;

function readManifest(file: URL): { version: string; homepage: string } {
  const { version, homepage } = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown; homepage?: unknown };
  if (typeof version !== 'string' || version === '') throw new Error(`${file.pathname} has no version`);
  if (typeof homepage !== 'string' || homepage === '') throw new Error(`${file.pathname} has no homepage`);
  return { version, homepage };
}
