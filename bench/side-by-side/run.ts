import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { machine, type Machine } from '../result-file.js';
import { availableServers, type SkippedServer } from './available-servers.js';
import type { BenchOptions } from './options.js';
import { canPin, LOAD_CORE, SERVER_CORE, setPinning } from './pinning.js';
import { compare, markdownTables, type Comparison } from './report.js';
import { runServer, type ServerResult } from './run-server.js';
import { chartTitle, ratioChart } from './svg-chart.js';

export interface SideBySideRun {
  date: string;
  machine: Machine & { loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
  pinning: string;
  heraldCommit?: string;
  options: BenchOptions;
  results: ServerResult[];
  /** Servers asked for that could not run here (Centrifugo without Go), with the reason. */
  skipped: SkippedServer[];
  comparison: Comparison;
  files: { json: string; table: string; chart: string };
}

/**
 * Runs every scenario against each server in turn (bare ws first: its maximum sets the latency run's rate) and
 * writes bench/results/<set>-<timestamp>.json, .md (the tables) and .svg (the ratio chart).
 */
export async function runSideBySide(options: BenchOptions, log = console.log): Promise<SideBySideRun> {
  const date = new Date().toISOString();
  setPinning(options.pin);
  const loadAverageAtStart = loadavg().map((value) => +value.toFixed(2));
  const pinning = canPin()
    ? `servers on core ${SERVER_CORE}, load generator on core ${LOAD_CORE} (taskset)`
    : options.pin
      ? 'not pinned: taskset is missing or there are fewer than 2 cores, so server and load generator share the cores'
      : 'not pinned (--pin=false): server and load generator share the cores';
  log(`side-by-side: ${options.connections} connections; ${pinning}`);
  const available = availableServers(options, log);
  const results: ServerResult[] = [];
  let fixedRate = options.fixedRate;
  for (const kind of available.servers) {
    log(`${kind}:`);
    const result = await runServer(kind, { ...options, centrifugoBinary: available.centrifugoBinary ?? options.centrifugoBinary }, fixedRate, log);
    if (kind === 'ws' && fixedRate === undefined) fixedRate = result.fanout.deliveriesPerSecond / 2;
    results.push(result);
  }
  const comparison = compare(results);
  const stamp = date.replace(/[:.]/g, '-');
  mkdirSync(options.resultsDir, { recursive: true });
  const files = {
    json: join(options.resultsDir, `${options.set}-${stamp}.json`),
    table: join(options.resultsDir, `${options.set}-${stamp}.md`),
    chart: join(options.resultsDir, `${options.set}-${stamp}.svg`),
  };
  const run: SideBySideRun = {
    date,
    machine: {
      ...machine(),
      loadAverageAtStart,
      loadAverageAtEnd: loadavg().map((value) => +value.toFixed(2)),
    },
    pinning,
    heraldCommit: commitOf(options.heraldDir),
    options,
    results,
    skipped: available.skipped,
    comparison,
    files,
  };
  writeFileSync(files.json, `${JSON.stringify(run, null, 2)}\n`);
  writeFileSync(files.table, markdownTables(comparison, available.skipped));
  writeFileSync(files.chart, ratioChart(comparison, chartTitle(options.connections, date)));
  return run;
}

function commitOf(dir: string): string | undefined {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}
