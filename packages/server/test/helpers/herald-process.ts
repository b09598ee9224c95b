import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `herald` command as installed (it runs the built dist/, which `npm test` builds first). */
export const HERALD_BIN = fileURLToPath(new URL('../../bin/herald.js', import.meta.url));

/** This process's environment without any HERALD_* variable or NODE_ENV, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('HERALD_') && name !== 'NODE_ENV') env[name] = value;
  }
  return { ...env, ...extra };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A running `herald` process whose stdout and stderr are recorded whole, so that a test can wait for a line and
 * afterwards search everything the process printed.
 */
export class HeraldProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private waiters: Array<() => void> = [];

  constructor(args: string[], options: { env: NodeJS.ProcessEnv; cwd: string }) {
    this.child = spawn(process.execPath, [HERALD_BIN, ...args], { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
      this.notify();
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
      this.notify();
    });
    // 'close' (not 'exit') so that the output is complete when it resolves.
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        resolve({ code, signal });
        this.notify();
      });
    });
  }

  get output(): string {
    return this.stdout + this.stderr;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The first JSON log line on stdout that `match` accepts; rejects if the process exits or `timeoutMs` passes. */
  async waitForLog(match: (entry: Record<string, any>) => boolean, timeoutMs = 15_000): Promise<Record<string, any>> {
    let found: Record<string, any> | undefined;
    await this.waitForOutput(() => {
      found = this.stdout
        .split('\n')
        .map(parseLine)
        .find((entry) => entry !== undefined && match(entry));
      return found !== undefined;
    }, timeoutMs);
    return found!;
  }

  /** Resolves once stdout holds `text`. */
  async waitForText(text: string, timeoutMs = 15_000): Promise<void> {
    await this.waitForOutput(() => this.stdout.includes(text), timeoutMs);
  }

  private async waitForOutput(check: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (!check()) {
      if (exited) throw new Error(`herald exited before the expected output; output:\n${this.output}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out waiting for output; output:\n${this.output}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

export interface StartedHerald {
  child: HeraldProcess;
  /** http://127.0.0.1:<port>, from the "Herald is listening" line. */
  url: string;
}

/**
 * `herald start` on 127.0.0.1 and a port of its own, with its data under `<dir>/data` and `env` on top; resolves
 * once it is listening. A start that fails kills the process before rejecting, so nothing is left running.
 */
export async function startHerald(dir: string, env: Record<string, string>, timeoutMs?: number): Promise<StartedHerald> {
  const child = new HeraldProcess(['start'], {
    cwd: dir,
    env: cleanEnv({ HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_DATA_DIR: join(dir, 'data'), ...env }),
  });
  try {
    const line = await child.waitForLog((entry) => entry['msg'] === 'Herald is listening', timeoutMs);
    return { child, url: line['url'] as string };
  } catch (error) {
    child.kill('SIGKILL');
    await child.exited;
    throw error;
  }
}

function parseLine(line: string): Record<string, any> | undefined {
  try {
    const entry: unknown = JSON.parse(line);
    return entry !== null && typeof entry === 'object' ? (entry as Record<string, any>) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `herald <args>` to completion; a run that hangs is killed after `timeoutMs` (and then fails on its exit). */
export async function runHerald(
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd: string; timeoutMs?: number },
): Promise<Exit & { stdout: string; stderr: string }> {
  const child = new HeraldProcess(args, options);
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
  const exit = await child.exited;
  clearTimeout(timer);
  return { ...exit, stdout: child.stdout, stderr: child.stderr };
}
