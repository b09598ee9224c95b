import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { centrifugoConfig, type CentrifugoMode } from '../peers/centrifugo-config.js';
import type { MemorySample } from './inspector-memory.js';
import { pinned, SERVER_CORE } from './pinning.js';
import { keepLog, stopper, track, type ServerProcess } from './server-process.js';

export interface CentrifugoStart {
  binary: string;
  mode: CentrifugoMode;
  jwtSecret: string;
  apiKey: string;
  /** 0: a free port is picked (Centrifugo prints the port it was given, not the one it got). */
  port: number;
  /** How long to wait for /health to answer. */
  readyTimeoutMs?: number;
}

/**
 * Starts Centrifugo as its own process on the server core with GOMAXPROCS=1 (one core, as the Node.js servers
 * have), from a config file written for the mode, and resolves once its health endpoint answers.
 */
export async function spawnCentrifugo(start: CentrifugoStart): Promise<ServerProcess> {
  const port = start.port || (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-centrifugo-'));
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify(centrifugoConfig({ mode: start.mode, port, jwtSecret: start.jwtSecret, apiKey: start.apiKey }), null, 2));
  const [command, ...args] = pinned(SERVER_CORE, [start.binary, '--config', config]);
  const child = spawn(command!, args, { env: { ...process.env, GOMAXPROCS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  // A binary that cannot be spawned emits 'error' and never 'exit': that, too, ends the wait for it.
  let spawnError: Error | undefined;
  const failed = new Promise<void>((resolve) => child.once('error', (error) => resolve(void (spawnError = error))));
  const exited = Promise.race([track(child), failed]);
  keepLog(child);
  let output = '';
  // Drained, so that the process never blocks on a full pipe; the start-up lines are kept (for the checks below
  // and the error of a failed start), and errors echoed.
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    if (output.length < 16_000) output += text;
    if (/"level":"(error|fatal|panic)"/.test(text)) process.stderr.write(`centrifugo: ${text}`);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const url = `http://127.0.0.1:${port}`;
  const stop = stopper(child, exited);
  try {
    await untilHealthy(url, exited, start.readyTimeoutMs ?? 60_000);
    // The one core the Node.js servers have: Centrifugo logs the GOMAXPROCS it runs with as it starts.
    if (!/"message":"starting Centrifugo"/.test(output)) await new Promise((resolve) => setTimeout(resolve, 200));
    if (!/"gomaxprocs":1[,}]/.test(output)) throw new Error('it did not report running with gomaxprocs 1');
  } catch (error) {
    await stop(1000);
    const cause = spawnError ? ` (${spawnError.message})` : '';
    throw new Error(`Centrifugo did not start: ${(error as Error).message}${cause}\n${output.slice(-4000)}`);
  }
  return { url, pid: child.pid!, memory: () => goMemoryAfterGc(url, child.pid!), stop };
}

async function untilHealthy(url: string, exited: Promise<void>, timeoutMs: number): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone) throw new Error('the process exited');
    try {
      const response = await fetch(`${url}/health`);
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`no answer from ${url}/health within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Go's counterpart of the inspector's forced GC: pprof's heap profile with gc=1 collects garbage first, and
 * with debug=1 ends with the runtime's MemStats (HeapAlloc is the live heap). RSS is the kernel's.
 */
export async function goMemoryAfterGc(url: string, pid: number): Promise<MemorySample> {
  const response = await fetch(`${url}/debug/pprof/heap?gc=1&debug=1`);
  const text = await response.text();
  if (!response.ok) throw new Error(`pprof heap answered ${response.status}`);
  const heapAlloc = /^# HeapAlloc = (\d+)$/m.exec(text);
  if (!heapAlloc) throw new Error('pprof heap profile without a HeapAlloc line');
  return { rss: rssOf(pid), heapUsed: Number(heapAlloc[1]), external: 0, arrayBuffers: 0 };
}

/** Resident set size in bytes, from /proc (VmRSS is in KiB). */
export function rssOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
