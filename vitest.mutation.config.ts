import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

interface MutationGroup {
  mutate: string[];
  tests: string[];
}

/** The test files of HERALD_MUTATE's group (mutation-groups.json), or of every group. */
function groupTests(): string[] {
  const groups = JSON.parse(readFileSync(new URL('./mutation-groups.json', import.meta.url), 'utf8')) as Record<string, MutationGroup>;
  const name = process.env['HERALD_MUTATE'] || 'all';
  if (name === 'all') return [...new Set(Object.values(groups).flatMap((group) => group.tests))];
  const group = groups[name];
  if (group === undefined) throw new Error(`HERALD_MUTATE=${name}: expected one of ${Object.keys(groups).join(', ')}`);
  return group.tests;
}

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
    include: groupTests(),
    globalSetup: ['packages/server/test/setup/postgres.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
