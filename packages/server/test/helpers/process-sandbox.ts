import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import type { HeraldProcess } from './herald-process.js';

/**
 * For a describe block that runs `herald` processes: fresh directories, removed after the block, and a list of
 * running processes, each killed after its test, so that a test that failed half-way leaves no server behind.
 */
export function processSandbox(prefix: string): { tempDir: () => string; running: HeraldProcess[] } {
  const dirs: string[] = [];
  const running: HeraldProcess[] = [];
  afterEach(() => {
    for (const child of running.splice(0)) child.kill('SIGKILL');
  });
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
  return { tempDir, running };
}
