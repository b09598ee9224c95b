import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

/** Debian's package puts it here; REDIS_SERVER overrides. */
const REDIS_SERVER = process.env['REDIS_SERVER'] ?? '/usr/bin/redis-server';

/** A real redis-server of a test's own (or of the run), which the test may stop and start again on the same port. */
export interface RedisServer {
  url: string;
  /** Kills the server (SIGKILL: an outage, not a goodbye); nothing is persisted, so it comes back empty. */
  stop(): Promise<void>;
  /** Starts it again on the same port; resolves once it answers. */
  start(): Promise<void>;
  /** Stops it if it runs and deletes its directory. */
  remove(): Promise<void>;
}

/** `args` go to redis-server as they are, e.g. `['--requirepass', 'secret']` for a server that wants a password. */
export async function startRedisServer(options: { args?: string[] } = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let output = '';
  const start = async (): Promise<void> => {
    output = '';
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...(options.args ?? [])];
    const started = spawn(REDIS_SERVER, [...args, '--daemonize', 'no', '--loglevel', 'warning'], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const failed = new Promise<never>((_resolve, reject) => {
      started.once('error', (error) => reject(new Error(`${REDIS_SERVER} could not run (install redis-server): ${error.message}`)));
      started.once('exit', (code) => reject(new Error(`redis-server exited with ${code} on port ${port}: ${output}`)));
    });
    failed.catch(() => {});
    child = started;
    // If this process dies without stopping the server (kill -9 of the test runner), a watchdog stops it.
    spawn('sh', ['-c', `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${started.pid} 2>/dev/null; do sleep 1; done; kill -9 ${started.pid} 2>/dev/null`], {
      stdio: 'ignore',
      detached: true,
    }).unref();
    await Promise.race([answers(port), failed]);
  };
  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    remove: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once the server answers PING on `port` (a refusal for want of a password is an answer); rejects after ten seconds. */
async function answers(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (await ping(port)) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
      }
    });
    socket.once('error', () => resolve(false));
  });
}
