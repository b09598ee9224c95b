import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProblems, manifestProblems, PACKAGES } from '../../../../scripts/package-rules.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'packages/server/package.json'), 'utf8')) as { version: string }).version;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-package-rules-'));
  dirs.push(dir);
  return dir;
}

/** The repository's manifests and the files beside them, copied: a root that passes until a test breaks one rule. */
function copyOfTheRepository(): string {
  const root = tempRoot();
  const files = ['package.json', 'LICENSE', 'CHANGELOG.md', 'apps/inbox/package.json'];
  for (const name of PACKAGES) files.push(`packages/${name}/package.json`, `packages/${name}/README.md`, `packages/${name}/LICENSE`);
  for (const file of files) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    cpSync(join(ROOT, file), join(root, file));
  }
  return root;
}

function edit(root: string, file: string, change: (manifest: Record<string, any>) => void): void {
  const manifest = JSON.parse(readFileSync(join(root, file), 'utf8')) as Record<string, any>;
  change(manifest);
  writeFileSync(join(root, file), JSON.stringify(manifest));
}

describe("the packages' manifests", () => {
  it('follow every rule in this repository', () => {
    expect(manifestProblems(ROOT)).toEqual([]);
  });

  it.each<{ name: string; breakIt: (root: string) => void; problem: string }>([
    {
      name: 'a package at another version',
      breakIt: (root) => edit(root, 'packages/client/package.json', (m) => (m['version'] = '9.9.9')),
      problem: `packages/client/package.json has version 9.9.9; the packages share @herald/server's ${VERSION}`,
    },
    {
      name: 'the inbox app at another version',
      breakIt: (root) => edit(root, 'apps/inbox/package.json', (m) => (m['version'] = '0.0.1')),
      problem: `apps/inbox/package.json has version 0.0.1; it shares @herald/server's ${VERSION}`,
    },
    {
      name: 'a sibling dependency by range',
      breakIt: (root) => edit(root, 'packages/react/package.json', (m) => (m['dependencies']['@herald/client'] = `^${VERSION}`)),
      problem: `packages/react/package.json depends on @herald/client ^${VERSION}; it must be exactly ${VERSION}`,
    },
    {
      name: 'no license',
      breakIt: (root) => edit(root, 'packages/protocol/package.json', (m) => delete m['license']),
      problem: 'packages/protocol/package.json has license undefined, not MIT (the LICENSE file)',
    },
    {
      name: 'no description',
      breakIt: (root) => edit(root, 'packages/server/package.json', (m) => (m['description'] = '')),
      problem: 'packages/server/package.json has no description',
    },
    {
      name: 'another repository',
      breakIt: (root) => edit(root, 'packages/client/package.json', (m) => (m['repository']['url'] = 'git+https://example.com/fork.git')),
      problem: "packages/client/package.json: repository.url is not @herald/server's",
    },
    {
      name: "another package's directory",
      breakIt: (root) => edit(root, 'packages/react/package.json', (m) => (m['repository']['directory'] = 'packages/client')),
      problem: 'packages/react/package.json: repository.directory is not packages/react',
    },
    {
      name: 'no engines',
      breakIt: (root) => edit(root, 'packages/protocol/package.json', (m) => delete m['engines']),
      problem: "packages/protocol/package.json: engines.node is not the root's >=22.12",
    },
    {
      name: 'no sideEffects',
      breakIt: (root) => edit(root, 'packages/client/package.json', (m) => delete m['sideEffects']),
      problem: 'packages/client/package.json has no sideEffects field',
    },
    {
      name: 'types that differ from exports',
      breakIt: (root) => edit(root, 'packages/react/package.json', (m) => (m['types'] = './dist/other.d.ts')),
      problem: 'packages/react/package.json: types is missing or differs from exports',
    },
    {
      name: 'no README',
      breakIt: (root) => rmSync(join(root, 'packages/client/README.md')),
      problem: 'packages/client has no README.md',
    },
    {
      name: 'a LICENSE that is not the root one',
      breakIt: (root) => writeFileSync(join(root, 'packages/server/LICENSE'), 'All rights reserved.\n'),
      problem: 'packages/server/LICENSE is not the root LICENSE',
    },
    {
      name: 'no CHANGELOG section for the version',
      breakIt: (root) => writeFileSync(join(root, 'CHANGELOG.md'), '# Changelog\n\n## 0.0.9\n'),
      problem: `CHANGELOG.md has no section "## ${VERSION}"`,
    },
  ])('name the one rule broken: $name', ({ breakIt, problem }) => {
    const root = copyOfTheRepository();
    breakIt(root);
    expect(manifestProblems(root)).toEqual([problem]);
  });
});

describe("the packages' builds", () => {
  it('ship only outputs of their sources, declare every import and carry their sources in the maps', () => {
    expect(buildProblems(ROOT)).toEqual([]);
  });

  /** One package, "fake", whose dist/ is written by the test. */
  function fakePackage(files: Record<string, string>): string {
    const root = tempRoot();
    const manifest = { name: '@herald/fake', types: './dist/index.d.ts', dependencies: { ws: '^8' }, peerDependencies: { react: '>=18' } };
    const all: Record<string, string> = { 'package.json': JSON.stringify(manifest), 'src/index.ts': '', ...files };
    for (const [file, text] of Object.entries(all)) {
      mkdirSync(dirname(join(root, 'packages/fake', file)), { recursive: true });
      writeFileSync(join(root, 'packages/fake', file), text);
    }
    return root;
  }
  const goodMap = JSON.stringify({ version: 3, sources: ['../src/index.ts'], sourcesContent: ['export {};\n'], mappings: '' });
  const imports = "import { WebSocket } from 'ws';\nimport 'ws/lib/x.js';\nimport { readFileSync } from 'node:fs';\nimport 'fs';\nimport './self.js';\nexport * from '@herald/fake';\nconst r = await import('react');\n";

  it('accept declared, built-in and relative imports', () => {
    expect(buildProblems(fakePackage({ 'dist/index.js': imports, 'dist/index.d.ts': imports, 'dist/index.js.map': goodMap }), ['fake'])).toEqual([]);
  });

  it.each<{ name: string; files: Record<string, string>; problem: string }>([
    {
      name: 'an undeclared import in code',
      files: { 'dist/index.d.ts': '', 'dist/index.js': "import pino from 'pino';\n" },
      problem: 'packages/fake/dist/index.js imports pino, which packages/fake/package.json does not declare',
    },
    {
      name: 'an undeclared scoped import in declarations',
      files: { 'dist/index.d.ts': "export type { Frame } from '@herald/protocol/frames';\n" },
      problem: 'packages/fake/dist/index.d.ts imports @herald/protocol/frames, which packages/fake/package.json does not declare',
    },
    {
      name: 'an undeclared require',
      files: { 'dist/index.d.ts': '', 'dist/index.js': "const x = require('kysely');\n" },
      problem: 'packages/fake/dist/index.js imports kysely, which packages/fake/package.json does not declare',
    },
    {
      name: 'an output whose source is gone',
      files: { 'dist/index.d.ts': '', 'dist/removed.js': '' },
      problem: 'packages/fake/dist/removed.js has no source in src/, and would ship: remove packages/fake/dist and build again',
    },
    {
      name: 'a source map without sourcesContent',
      files: { 'dist/index.d.ts': '', 'dist/index.js.map': JSON.stringify({ version: 3, sources: ['../src/index.ts'], mappings: '' }) },
      problem: 'packages/fake/dist/index.js.map has no sourcesContent, and the sources it names are not in the tarball',
    },
    {
      name: 'a source map with fewer contents than sources',
      files: { 'dist/index.d.ts': '', 'dist/index.js.map': JSON.stringify({ version: 3, sources: ['a.ts', 'b.ts'], sourcesContent: ['x'], mappings: '' }) },
      problem: 'packages/fake/dist/index.js.map has no sourcesContent, and the sources it names are not in the tarball',
    },
    {
      name: 'the types entry not built',
      files: { 'dist/index.js': '' },
      problem: 'packages/fake/package.json: types names ./dist/index.d.ts, which is not built',
    },
  ])('name what is wrong: $name', ({ files, problem }) => {
    expect(buildProblems(fakePackage(files), ['fake'])).toEqual([problem]);
  });

  it('leave the bundled inbox page alone', () => {
    const root = fakePackage({ 'dist/index.d.ts': '', 'dist/inbox/assets/inbox.js': "import x from 'undeclared';\n" });
    expect(buildProblems(root, ['fake'])).toEqual([]);
  });
});
