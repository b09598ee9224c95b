import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BENCH_SECRET = 'bench-secret-that-is-long-enough-for-hs256';
export const BENCH_API_KEY = 'bench-api-key-0123456789';

export interface BenchServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `herald start` as its own process on the embedded default (SQLite in a temp data dir), with the
 * benchmark's secrets and `env` on top; resolves with the URL from its "listening" log line.
 */
export async function startHerald(env: Record<string, string>): Promise<BenchServer> {
  const child = spawn(process.execPath, ['packages/server/bin/herald.js', 'start'], {
    env: {
      ...process.env,
      HERALD_PORT: '0',
      HERALD_DATA_DIR: mkdtempSync(join(tmpdir(), 'herald-bench-')),
      HERALD_JWT_SECRET: BENCH_SECRET,
      HERALD_API_KEY: BENCH_API_KEY,
      HERALD_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)"/.exec(buffered);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`herald exited with ${code}`)));
  });
  return {
    url,
    pid: child.pid!,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The value at percentile `p` of an ascending list. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** A process's CPU time so far (user + system, all its threads), in seconds: Linux counts it in ticks of 1/100 s. */
export function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
