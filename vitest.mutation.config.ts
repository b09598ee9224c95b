import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The tests that `npm run test:mutation` (stryker.config.mjs) runs against each mutant of the delivery core: the
 * files that exercise the mutated sources, and only the global setup they need (PostgreSQL, for the set-based
 * append). The end-to-end socket suites (ws-*.test.ts) are left out although they reach these files: each of
 * them runs for seconds, and work that outlives a test there (a publish still in flight) makes Stryker treat
 * the mutants it touches as static, to be tested by every test. The unit tests cover the same code directly.
 */
export default defineConfig({
  resolve: base.resolve,
  test: {
    include: [
      // Unit tests of the delivery core, written for mutation testing.
      'packages/server/test/*.unit.test.ts',
      // The store: append, numbering, idempotency, on SQLite (SqliteAppender) and PostgreSQL (appendBatch).
      'packages/server/test/store.test.ts',
      'packages/server/test/group-commit.test.ts',
      'packages/server/test/group-commit-sqlite.test.ts',
      'packages/server/test/event-rows.property.test.ts',
      // Ingest decoders.
      'packages/server/test/decoders.property.test.ts',
      'packages/server/test/kafka-record.test.ts',
    ],
    globalSetup: ['packages/server/test/setup/postgres.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
