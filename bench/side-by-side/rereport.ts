/**
 * Writes a run's comparison, tables and chart again from the results in its JSON file, e.g. after a figure was
 * added to report.ts. The measured results are not touched.
 *
 *   npx tsx bench/side-by-side/rereport.ts bench/results/side-by-side-<time>.json
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { compare, markdownTables } from './report.js';
import type { SideBySideRun } from './run.js';
import { chartTitle, ratioChart } from './svg-chart.js';

for (const file of process.argv.slice(2)) {
  const run = JSON.parse(readFileSync(file, 'utf8')) as SideBySideRun;
  run.comparison = compare(run.results);
  writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);
  writeFileSync(file.replace(/\.json$/, '.md'), markdownTables(run.comparison, run.skipped ?? []));
  writeFileSync(file.replace(/\.json$/, '.svg'), ratioChart(run.comparison, chartTitle(run.options.connections, run.date)));
  console.log(markdownTables(run.comparison, run.skipped ?? []));
}
