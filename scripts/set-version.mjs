#!/usr/bin/env node
/**
 * `node scripts/set-version.mjs <version>`: sets Herald's one version. The four packages (and the inbox app) share
 * it, and each @herald/* dependency between them names exactly it, so that a set of tarballs installs together;
 * `npm version --workspaces` changes the versions but not those dependencies. Then the lock file is refreshed.
 * A release also adds its section to CHANGELOG.md, which scripts/package-rules.ts looks for.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MANIFESTS = ['packages/protocol', 'packages/client', 'packages/react', 'packages/server', 'apps/inbox'].map((dir) => `${dir}/package.json`);
// SemVer 2.0 without build metadata: what npm accepts as an exact version.
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

const args = process.argv.slice(2);
if (args.length !== 1 || !SEMVER.test(args[0])) {
  console.error('Usage: node scripts/set-version.mjs <version>   (such as 0.2.0 or 1.0.0-rc.1)');
  process.exit(2);
}
const [version] = args;
for (const path of MANIFESTS) {
  const file = new URL(path, `file://${ROOT}/`);
  const manifest = JSON.parse(readFileSync(file, 'utf8'));
  manifest.version = version;
  for (const field of ['dependencies', 'peerDependencies', 'devDependencies']) {
    for (const name of Object.keys(manifest[field] ?? {})) if (name.startsWith('@herald/')) manifest[field][name] = version;
  }
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
}
const install = spawnSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: ROOT, stdio: 'inherit' });
if (install.status !== 0) process.exit(install.status ?? 1);
console.log(`Herald is now ${version} in ${MANIFESTS.join(', ')} and package-lock.json; add its section to CHANGELOG.md.`);
