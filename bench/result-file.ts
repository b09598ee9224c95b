import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

export interface Machine {
  cores: number;
  cpu: string | undefined;
  memoryGiB: number;
  node: string;
}

/** The machine a figure was measured on, the same in every result file. */
export function machine(): Machine {
  return { cores: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
}

/** Writes `result` to bench/results/<name>-<date, file-safe>.json and returns the file's path. */
export function saveResult(name: string, date: string, result: unknown): string {
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/${name}-${date.replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
