/**
 * Start-up: milliseconds from spawning `herald start` (the built dist/, on the embedded SQLite default, in a
 * fresh data directory) to its "Herald is listening" log line, over several runs: as shipped, after one start
 * that warms whatever cache the command keeps, and with Node's module compile cache switched off
 * (NODE_DISABLE_COMPILE_CACHE=1).
 *
 *   npx tsx bench/startup.ts [--runs 10]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { processCpuSeconds } from './herald-process.js';
import { machine, saveResult } from './result-file.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const runs = Number(values.runs);
const bin = new URL('../packages/server/bin/herald.js', import.meta.url).pathname;

interface Sample {
  /** Wall-clock ms from spawn to the listening line. */
  wallMs: number;
  /** The process's user + system CPU ms by then (from /proc): less moved by other load on the machine. */
  cpuMs: number;
}

async function timeToListening(env: NodeJS.ProcessEnv): Promise<Sample> {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-startup-'));
  const started = performance.now();
  const child = spawn(process.execPath, [bin, 'start'], {
    env: { ...env, HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', HERALD_DATA_DIR: dataDir, HERALD_DATABASE_URL: join(dataDir, 'herald.db') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    return await new Promise<Sample>((resolve, reject) => {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Herald is listening')) resolve({ wallMs: performance.now() - started, cpuMs: processCpuSeconds(child.pid!) * 1000 });
      });
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('exit', (code) => reject(new Error(`herald start exited with ${code} before listening:\n${output}`)));
    });
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function stats(samples: number[]): { min: number; median: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { min: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, max: sorted.at(-1)! };
}

function show({ min, median, max }: ReturnType<typeof stats>): string {
  return `min ${min.toFixed(0)} / median ${median.toFixed(0)} / max ${max.toFixed(0)} ms`;
}

const base: NodeJS.ProcessEnv = {};
for (const [name, value] of Object.entries(process.env)) {
  if (!name.startsWith('HERALD_') && name !== 'NODE_ENV' && name !== 'NODE_COMPILE_CACHE') base[name] = value;
}
const variants = {
  'as shipped (warm)': base,
  'compile cache off': { ...base, NODE_DISABLE_COMPILE_CACHE: '1' },
};
await timeToListening(base); // fills the compile cache, where the command keeps one
// Interleaved, so that load from elsewhere on the machine falls on both variants alike.
const samples = new Map<string, Sample[]>(Object.keys(variants).map((name) => [name, []]));
for (let i = 0; i < runs; i++) {
  for (const [name, env] of Object.entries(variants)) samples.get(name)!.push(await timeToListening(env));
}
const result: Record<string, { wallMs: ReturnType<typeof stats>; cpuMs: ReturnType<typeof stats> }> = {};
for (const [name, taken] of samples) {
  const wallMs = stats(taken.map((sample) => sample.wallMs));
  const cpuMs = stats(taken.map((sample) => sample.cpuMs));
  result[name] = { wallMs, cpuMs };
  console.log(`${name}: to listening ${show(wallMs)}; CPU ${show(cpuMs)}`);
}
const date = new Date().toISOString();
console.log(saveResult('startup', date, { date, machine: machine(), runs, result }));
