#!/usr/bin/env node
// `npm run test:mutation`: StrykerJS on the delivery core, one group of mutation-groups.json after another, each
// against its own tests (HERALD_MUTATE=<group> runs just that one; extra arguments go to `stryker run`, e.g.
// --force). One run of all files against all tests would test every static mutant with every group's tests.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const groups = Object.keys(JSON.parse(readFileSync(new URL('../mutation-groups.json', import.meta.url), 'utf8')));
const chosen = process.env.HERALD_MUTATE ? [process.env.HERALD_MUTATE] : groups;
const failed = [];
for (const group of chosen) {
  console.log(`\n== mutation testing: ${group}`);
  const started = Date.now();
  const run = spawnSync('npx', ['stryker', 'run', ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, HERALD_MUTATE: group },
  });
  console.log(`== ${group}: ${run.status === 0 ? 'done' : 'failed'} in ${Math.round((Date.now() - started) / 1000)} s`);
  if (run.status !== 0) failed.push(group);
}
if (failed.length > 0) {
  console.log(`mutation testing failed for: ${failed.join(', ')}`);
  process.exit(1);
}
