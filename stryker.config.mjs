// @ts-check
import process from 'node:process';

const test = (name) => `packages/server/test/${name}`;
const src = (name) => `packages/server/src/${name}`;

/**
 * The delivery core in groups, each with the tests that exercise it. `HERALD_MUTATE=<group> npm run
 * test:mutation` runs one group against its own tests only: a mutant that Stryker must test with every test
 * (one in code that runs when a module loads, such as a schema) then costs those few files, not the whole set.
 * Without HERALD_MUTATE every file is mutated and tested with every test of vitest.mutation.config.ts.
 */
const groups = {
  transport: {
    mutate: [src('transport/stream-sync.ts'), src('transport/connection.ts'), src('hub/hub.ts')],
    testFiles: [test('stream-sync.unit.test.ts'), test('connection.unit.test.ts'), test('hub.unit.test.ts')],
  },
  store: {
    mutate: [src('store/append-batch.ts'), src('store/sqlite-appender.ts'), src('store/group-commit.ts'), src('store/event-rows.ts')],
    testFiles: [test('store.test.ts'), test('group-commit.test.ts'), test('group-commit-sqlite.test.ts'), test('event-rows.property.test.ts')],
  },
  auth: {
    mutate: [src('auth/token-verifier.ts')],
    testFiles: [test('token-verifier.unit.test.ts')],
  },
  ingest: {
    mutate: [src('ingest/publish-item.ts'), src('ingest/kafka-record.ts'), src('ingest/json-depth.ts'), src('transport/client-frame.ts')],
    testFiles: [test('decoders.unit.test.ts'), test('decoders.property.test.ts'), test('kafka-record.test.ts')],
  },
};
const groupName = process.env.HERALD_MUTATE || 'all';
if (groupName !== 'all' && !(groupName in groups)) {
  throw new Error(`HERALD_MUTATE=${groupName}: expected one of ${Object.keys(groups).join(', ')}`);
}
/** @type {{ mutate: string[]; testFiles?: string[] }} */
const group = groupName === 'all' ? { mutate: Object.values(groups).flatMap((g) => g.mutate) } : groups[groupName];

/**
 * Mutation testing of the delivery core: `npm run test:mutation` (see TESTING.md). Not part of `npm test`: it
 * runs the tests of vitest.mutation.config.ts once per mutant that they cover.
 *
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
const config = {
  testRunner: 'vitest',
  vitest: {
    configFile: 'vitest.mutation.config.ts',
    // Some tests reach these files through the gateway, not by importing them; the group's test files and
    // per-test coverage pick the tests that run each mutant.
    related: false,
    // better-sqlite3 and embedded PostgreSQL are run in child processes by the ordinary suite too.
    pool: 'forks',
  },
  mutate: group.mutate,
  ...(group.testFiles && { testFiles: group.testFiles }),
  coverageAnalysis: 'perTest',
  // Two shared cores: one test runner, so that the timings the socket tests depend on stay honest.
  concurrency: 1,
  // Reruns test only the mutants whose code or covering tests changed since the last run.
  incremental: true,
  incrementalFile: `.cache/stryker/${groupName}.json`,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${groupName}/index.html` },
  jsonReporter: { fileName: `reports/mutation/${groupName}/mutation.json` },
  // The sandbox is a copy of the tree (never the tree itself: others edit it while a run goes on). Left out of
  // the copy: what the tests do not read (the Node download and Kafka jars in .cache, builds, benchmarks, docs).
  ignorePatterns: ['.cache', 'data', 'dist', 'bench', 'docs', 'apps', 'reports', '*.md', '!packages/**/*.md'],
  tempDirName: '.stryker-tmp',
  // Beyond the covering tests' own time (times timeoutFactor): a mutant that loops forever costs this much.
  timeoutMS: 4_000,
  thresholds: { high: 90, low: 85, break: null },
};

export default config;
