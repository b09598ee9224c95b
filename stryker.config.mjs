// @ts-check
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
    // The socket tests reach these files through the gateway, not by importing them; per-test coverage already
    // picks the tests that run each mutant.
    related: false,
    // better-sqlite3 and embedded PostgreSQL are run in child processes by the ordinary suite too.
    pool: 'forks',
  },
  mutate: [
    'packages/server/src/transport/stream-sync.ts',
    'packages/server/src/transport/connection.ts',
    'packages/server/src/transport/client-frame.ts',
    'packages/server/src/hub/hub.ts',
    'packages/server/src/store/append-batch.ts',
    'packages/server/src/store/sqlite-appender.ts',
    'packages/server/src/store/group-commit.ts',
    'packages/server/src/store/event-rows.ts',
    'packages/server/src/auth/token-verifier.ts',
    'packages/server/src/ingest/publish-item.ts',
    'packages/server/src/ingest/kafka-record.ts',
    'packages/server/src/ingest/json-depth.ts',
  ],
  coverageAnalysis: 'perTest',
  // Two shared cores: one test runner, so that the timings the socket tests depend on stay honest.
  concurrency: 1,
  // Reruns test only the mutants whose code or covering tests changed since the last run.
  incremental: true,
  incrementalFile: '.cache/stryker/incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  // The sandbox is a copy of the tree (never the tree itself: others edit it while a run goes on). Left out of
  // the copy: what the tests do not read (the Node download and Kafka jars in .cache, builds, benchmarks, docs).
  ignorePatterns: ['.cache', 'data', 'dist', 'bench', 'docs', 'apps', 'reports', '*.md', '!packages/**/*.md'],
  tempDirName: '.stryker-tmp',
  timeoutMS: 10_000,
  thresholds: { high: 90, low: 85, break: null },
};

export default config;
