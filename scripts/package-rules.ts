/**
 * What each of Herald's packages must be before it is packed: the manifest fields a published package needs, the
 * one shared version, and a build that ships only what it should. scripts/check-packages.ts applies these to the
 * repository; the tests apply them to broken copies, one rule at a time.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';

/** The published packages, by folder under packages/. */
export const PACKAGES = ['protocol', 'client', 'react', 'server'] as const;

interface Manifest {
  name?: string;
  version?: string;
  description?: string;
  license?: string;
  repository?: { url?: string; directory?: string };
  engines?: { node?: string };
  sideEffects?: unknown;
  types?: string;
  exports?: Record<string, { types?: string } | undefined>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
const readText = (file: string): string | undefined => (existsSync(file) ? readFileSync(file, 'utf8') : undefined);

/**
 * Problems with the manifests and the files beside them: none when every package has its description, the MIT
 * license and LICENSE file, the repository (its own directory), the root's engines, sideEffects, types agreeing
 * with exports, a README, @herald/server's version (also the inbox app's, and a CHANGELOG.md section for it), and
 * depends on its sibling packages at exactly that version.
 */
export function manifestProblems(root: string, packages: readonly string[] = PACKAGES): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, problem: string): void => {
    if (!ok) problems.push(problem);
  };
  const rootManifest = readJson<Manifest>(join(root, 'package.json'));
  const server = readJson<Manifest>(join(root, 'packages/server/package.json'));
  const version = server.version ?? '';
  const license = readText(join(root, 'LICENSE'));
  check(license !== undefined, 'there is no LICENSE at the root');
  const app = readJson<Manifest>(join(root, 'apps/inbox/package.json'));
  check(app.version === version, `apps/inbox/package.json has version ${app.version}; it shares @herald/server's ${version}`);
  const changelog = readText(join(root, 'CHANGELOG.md')) ?? '';
  check(new RegExp(`^## ${version.replaceAll('.', '\\.')}(\\s|$)`, 'm').test(changelog), `CHANGELOG.md has no section "## ${version}"`);
  const siblings = new Set(packages.map((name) => `@herald/${name}`));
  for (const name of packages) {
    const dir = join(root, 'packages', name);
    const where = `packages/${name}/package.json`;
    const manifest = readJson<Manifest>(join(dir, 'package.json'));
    check(manifest.version === version, `${where} has version ${manifest.version}; the packages share @herald/server's ${version}`);
    check(manifest.license === 'MIT', `${where} has license ${JSON.stringify(manifest.license)}, not MIT (the LICENSE file)`);
    check(typeof manifest.description === 'string' && manifest.description !== '', `${where} has no description`);
    check(typeof manifest.repository?.url === 'string' && manifest.repository.url === server.repository?.url, `${where}: repository.url is not @herald/server's`);
    check(manifest.repository?.directory === `packages/${name}`, `${where}: repository.directory is not packages/${name}`);
    check(manifest.engines?.node === rootManifest.engines?.node, `${where}: engines.node is not the root's ${rootManifest.engines?.node}`);
    check(typeof manifest.sideEffects === 'boolean', `${where} has no sideEffects field`);
    check(typeof manifest.types === 'string' && manifest.exports?.['.']?.types === manifest.types, `${where}: types is missing or differs from exports`);
    check(existsSync(join(dir, 'README.md')), `packages/${name} has no README.md`);
    check(license !== undefined && readText(join(dir, 'LICENSE')) === license, `packages/${name}/LICENSE is not the root LICENSE`);
    for (const [dependency, range] of Object.entries(manifest.dependencies ?? {})) {
      check(!siblings.has(dependency) || range === version, `${where} depends on ${dependency} ${range}; it must be exactly ${version}`);
    }
  }
  return problems;
}

const BUILTINS = new Set(builtinModules);
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;

/** The package a bare specifier names: `@scope/name/sub` is `@scope/name`, `name/sub` is `name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/**
 * Problems with what `npm pack` would ship from each dist/: the `types` entry missing, an output whose source is
 * gone (it would still ship), a bare import (in code or declarations) that the manifest does not declare, or a
 * source map without sourcesContent (its sources, src/, are not in the tarball). dist/inbox is the bundled page.
 */
export function buildProblems(root: string, packages: readonly string[] = PACKAGES): string[] {
  const problems: string[] = [];
  for (const name of packages) {
    const dir = join(root, 'packages', name);
    const where = `packages/${name}/package.json`;
    const manifest = readJson<Manifest>(join(dir, 'package.json'));
    if (manifest.types !== undefined && !existsSync(join(dir, manifest.types))) problems.push(`${where}: types names ${manifest.types}, which is not built`);
    const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {}), manifest.name]);
    const dist = join(dir, 'dist');
    if (!existsSync(dist)) {
      problems.push(`packages/${name}/dist is not built`);
      continue;
    }
    for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const file = join(entry.parentPath, entry.name);
      const inPackage = relative(dir, file);
      if (inPackage.startsWith('dist/inbox/')) continue;
      const shown = relative(root, file);
      const output = /^dist\/(.+?)(\.d\.ts|\.js)(\.map)?$/.exec(inPackage);
      if (output !== null && !existsSync(join(dir, 'src', `${output[1]}.ts`)) && !existsSync(join(dir, 'src', `${output[1]}.tsx`))) {
        problems.push(`${shown} has no source in src/, and would ship: remove packages/${name}/dist and build again`);
      }
      if (/\.(js|d\.ts)$/.test(file)) {
        for (const [, specifier] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
          if (specifier!.startsWith('.') || specifier!.startsWith('node:') || BUILTINS.has(specifier!)) continue;
          if (!declared.has(packageOf(specifier!))) problems.push(`${shown} imports ${specifier}, which ${where} does not declare`);
        }
      }
      if (file.endsWith('.map')) {
        const map = readJson<{ sources?: unknown[]; sourcesContent?: unknown[] }>(file);
        const carried = Array.isArray(map.sourcesContent) && map.sourcesContent.length === map.sources?.length && map.sourcesContent.every((text) => typeof text === 'string');
        if (!carried) problems.push(`${shown} has no sourcesContent, and the sources it names are not in the tarball`);
      }
    }
  }
  return problems;
}
