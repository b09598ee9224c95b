// @ts-check
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

/**
 * The delivery core in groups, each with the tests that exercise it (mutation-groups.json, which
 * vitest.mutation.config.ts reads too). `HERALD_MUTATE=<group> npm run test:mutation` runs one group against its
 * own tests only: a mutant that must be tested with every test (one in code that runs when a module loads, such as
 * a schema) then costs those few files, not the whole set. Without HERALD_MUTATE every file is mutated and tested
 * with every test of every group.
 *
 * The group's tests are chosen by vitest's own include list, not by Stryker's `testFiles`: with `testFiles`,
 * StrykerJS 10 activates a static mutant only after its module was loaded, so every static mutant "survives"
 * (stryker-js issues 6144 and 6209).
 */
const groups = JSON.parse(readFileSync(new URL('./mutation-groups.json', import.meta.url), 'utf8'));
const groupName = process.env.HERALD_MUTATE || 'all';
if (groupName !== 'all' && !(groupName in groups)) {
  throw new Error(`HERALD_MUTATE=${groupName}: expected one of ${Object.keys(groups).join(', ')}`);
}
/** @type {string[]} */
const mutate = groupName === 'all' ? Object.values(groups).flatMap((g) => g.mutate) : groups[groupName].mutate;

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
  mutate,
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
