import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { memoryAfterGc, type MemorySample } from './inspector-memory.js';
import { pinned, SERVER_CORE } from './pinning.js';

export interface ServerProcess {
  url: string;
  pid: number;
  /** A Node.js server's inspector (WebSocket address), for CPU profiles; a Go server has none. */
  inspectorUrl?: string;
  /** The process's memory after a forced garbage collection, read the way its runtime allows. */
  memory(): Promise<MemorySample>;
  /** Resolves once the process has exited (SIGTERM, then SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();

/** Counts `child` among the servers killServers() kills; resolves when it has exited. */
export function track(child: ChildProcess): Promise<void> {
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => running.delete(child));
  return exited;
}

/** Everything the server prints, kept in a file of its own when BENCH_SERVER_LOG_DIR is set (for diagnosis). */
export function keepLog(child: ChildProcess): void {
  const logDir = process.env['BENCH_SERVER_LOG_DIR'];
  if (!logDir) return;
  const log = createWriteStream(join(logDir, `server-${child.pid}.log`));
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export function stopper(child: ChildProcess, exited: Promise<void>): (graceMs?: number) => Promise<void> {
  return async (graceMs = 15_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.kill('SIGTERM');
    await exited;
    clearTimeout(kill);
  };
}

/** Kills every server this process started; for an interrupted run, so that no server outlives it. */
export function killServers(): void {
  for (const child of running) child.kill('SIGKILL');
}

export interface SpawnOptions {
  /** Arguments to node after the inspector flag: a script and its arguments, or `--import tsx script.ts`. */
  nodeArgs: string[];
  env: Record<string, string>;
  cwd?: string;
}

/**
 * Starts a server as its own process pinned to the server core, with the inspector on a free port, and resolves
 * once it printed its address (`"url":"http://..."`, the shape of Herald's "listening" log line).
 */
export async function spawnServer(options: SpawnOptions): Promise<ServerProcess> {
  const [command, ...args] = pinned(SERVER_CORE, [process.execPath, '--inspect=127.0.0.1:0', ...options.nodeArgs]);
  const child = spawn(command!, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = track(child);
  // E.g. with NODE_OPTIONS=--trace-gc.
  keepLog(child);
  const [url, inspectorUrl] = await Promise.all([
    awaitLine(child, 'stdout', /"url":"(http:\/\/[^"]+)"/),
    awaitLine(child, 'stderr', /Debugger listening on (ws:\/\/\S+)/),
  ]);
  return {
    url,
    pid: child.pid!,
    inspectorUrl,
    memory: () => memoryAfterGc(inspectorUrl),
    stop: stopper(child, exited),
  };
}

export function awaitLine(child: ChildProcess, stream: 'stdout' | 'stderr', pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let found = false;
    child[stream]!.on('data', (chunk: Buffer) => {
      if (found) {
        // Keep draining so that the child never blocks on a full pipe; echo what looks like an error.
        if (/error|warn/i.test(chunk.toString()) && !/Debugger|inspector/.test(chunk.toString())) process.stderr.write(chunk);
        return;
      }
      buffered += chunk.toString();
      const match = pattern.exec(buffered);
      if (match?.[1]) {
        found = true;
        resolve(match[1]);
      }
    });
    child.once('exit', (code, signal) => {
      if (!found) reject(new Error(`server exited (${code ?? signal}) before printing its address:\n${buffered.slice(-2000)}`));
    });
  });
}

/** CPU time (user + system) the process used so far, in seconds, from /proc. */
export function cpuSecondsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}
