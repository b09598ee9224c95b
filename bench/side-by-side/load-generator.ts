import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerCommand, WorkerReply, WorkerStats } from './load-messages.js';
import { LOAD_CORE, pinProcess } from './pinning.js';
import type { ServerKind } from './servers.js';

/** Connections per worker process: well inside the 20,000 open files a process may have here. */
const PER_WORKER = 5_000;
/** Source addresses 127.0.0.2 ... : each has its own ephemeral port range, which churn and storms need. */
const SOURCE_ADDRESSES = Array.from({ length: 32 }, (_, index) => `127.0.0.${index + 2}`);
/** Above this share of its one core, the load generator may have been what limited the run. */
export const SATURATED_CPU_SHARE = 0.9;

export interface LoadStats extends Omit<WorkerStats, 'latencies' | 'wallSeconds'> {
  /** CPU seconds of the workers and the coordinator per wall second: 1.0 is the whole load-generator core. */
  cpuShare: number;
  saturated: boolean;
  latencies: number[];
}

/**
 * The coordinator of the load generator: starts enough worker processes for the connections, pins them (and
 * itself) to the load core, and sums what they report.
 */
export class LoadGenerator {
  private nextId = 1;
  private cpuAtReset = process.cpuUsage();
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  private constructor(private readonly workers: ChildProcess[]) {
    for (const worker of workers) {
      worker.on('message', (reply: WorkerReply) => {
        const waiting = this.pending.get(reply.id);
        this.pending.delete(reply.id);
        if (reply.error) waiting?.reject(new Error(reply.error));
        else waiting?.resolve(reply.result);
      });
    }
  }

  static start(connections: number): LoadGenerator {
    pinProcess(process.pid, LOAD_CORE);
    const count = Math.max(1, Math.ceil(connections / PER_WORKER));
    const script = fileURLToPath(new URL('./load-worker.ts', import.meta.url));
    const workers = Array.from({ length: count }, () => {
      const worker = fork(script, [], { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: 'inherit' });
      pinProcess(worker.pid!, LOAD_CORE);
      return worker;
    });
    return new LoadGenerator(workers);
  }

  get workerCount(): number {
    return this.workers.length;
  }

  /** Gives each worker its share of users `user-0` ... and mints their tokens. */
  async prepare(kind: ServerKind, connections: number, prefix: string): Promise<void> {
    const users = Array.from({ length: connections }, (_, index) => `${prefix}-${index}`);
    await this.all((index) => ({
      op: 'prepare',
      kind,
      users: users.filter((_, user) => user % this.workers.length === index),
      addresses: SOURCE_ADDRESSES,
    }));
  }

  /** Opens every connection; `burst` per worker at a time (Infinity: all at once, a connect storm). */
  async open(base: string, burst: number): Promise<LoadStats> {
    await this.all(() => ({ op: 'open', base, burst: Number.isFinite(burst) ? burst : 1e9 }));
    return this.stats();
  }

  async reset(recordLatency = false): Promise<void> {
    await this.all(() => ({ op: 'reset', recordLatency }));
    this.cpuAtReset = process.cpuUsage();
  }

  async reconnect(enabled: boolean, base: string): Promise<void> {
    await this.all(() => ({ op: 'reconnect', enabled, base }));
  }

  async churn(seconds: number, perSecond: number): Promise<LoadStats> {
    const share = perSecond / this.workers.length;
    await this.all(() => ({ op: 'churn', seconds, perSecond: share }));
    return this.stats();
  }

  async close(): Promise<void> {
    await this.all(() => ({ op: 'close' }));
  }

  /** Summed stats of the workers; the coordinator's own CPU (it publishes) counts as load-generator CPU. */
  async stats(withLatencies = false): Promise<LoadStats> {
    const parts = (await this.all(() => ({ op: 'stats', latencies: withLatencies }))) as WorkerStats[];
    const own = process.cpuUsage(this.cpuAtReset);
    const cpuSeconds = parts.reduce((sum, part) => sum + part.cpuSeconds, 0) + (own.user + own.system) / 1e6;
    const wall = Math.max(...parts.map((part) => part.wallSeconds));
    const cpuShare = wall > 0 ? cpuSeconds / wall : 0;
    return {
      clients: sum(parts, 'clients'),
      ready: sum(parts, 'ready'),
      received: sum(parts, 'received'),
      minPerClient: Math.min(...parts.map((part) => part.minPerClient)),
      maxPerClient: Math.max(...parts.map((part) => part.maxPerClient)),
      lastEventAt: Math.max(...parts.map((part) => part.lastEventAt)),
      lastReadyAt: Math.max(...parts.map((part) => part.lastReadyAt)),
      retries: sum(parts, 'retries'),
      churned: sum(parts, 'churned'),
      cpuSeconds,
      cpuShare: +cpuShare.toFixed(3),
      saturated: cpuShare >= SATURATED_CPU_SHARE,
      latencies: parts.flatMap((part) => (part.latencies ? Array.from(part.latencies) : [])),
    };
  }

  /** Polls until `done` holds for the summed stats, or the timeout; returns the last stats either way. */
  async until(done: (stats: LoadStats) => boolean, timeoutMs: number): Promise<LoadStats & { timedOut: boolean }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const stats = await this.stats();
      if (done(stats)) return { ...stats, timedOut: false };
      if (Date.now() > deadline) return { ...stats, timedOut: true };
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(): Promise<void> {
    for (const worker of this.workers) worker.disconnect();
    await Promise.all(this.workers.map((worker) => new Promise((resolve) => (worker.exitCode !== null ? resolve(null) : worker.once('exit', resolve)))));
  }

  private all(command: (index: number) => WorkerCommand): Promise<unknown[]> {
    return Promise.all(
      this.workers.map(
        (worker, index) =>
          new Promise((resolve, reject) => {
            const id = this.nextId++;
            this.pending.set(id, { resolve, reject });
            worker.send({ id, command: command(index) });
          }),
      ),
    );
  }
}

function sum(parts: WorkerStats[], key: 'clients' | 'ready' | 'received' | 'retries' | 'churned'): number {
  return parts.reduce((total, part) => total + part[key], 0);
}
