import type { LoadGenerator, LoadStats } from './load-generator.js';
import type { BenchOptions } from './options.js';
import type { Publisher } from './publisher.js';
import { cpuSecondsOf, type ServerProcess } from './server-process.js';
import type { BenchTarget } from './servers.js';

/** What the scenarios of one server share; `server` changes when the restart scenario starts it again. */
export interface RunContext {
  options: BenchOptions;
  target: BenchTarget;
  server: ServerProcess;
  load: LoadGenerator;
  publisher: Publisher;
  /** One user per connection, in the order the publisher addresses them. */
  users: string[];
}

/** How busy each side was during a measured stretch: shares of one core, and the server's CPU seconds. */
export interface CpuFigures {
  serverCpuShare: number;
  /** CPU seconds (user + system, all threads) the server spent in the stretch: the figure that holds across machines. */
  serverCpuSeconds: number;
  loadCpuShare: number;
  /** The load generator used (nearly) all of its core: the figure may be the load generator's, not the server's. */
  loadSaturated: boolean;
}

export interface ServerCpu {
  share: number;
  seconds: number;
}

/** Starts a stretch of measurement: counters reset; returns a function giving the server's CPU since. */
export async function startStretch(context: RunContext, recordLatency = false): Promise<() => ServerCpu> {
  await context.load.reset(recordLatency);
  const cpuBefore = cpuSecondsOf(context.server.pid);
  const wallBefore = performance.now();
  return () => {
    const seconds = cpuSecondsOf(context.server.pid) - cpuBefore;
    return { seconds: round(seconds, 3), share: round(seconds / ((performance.now() - wallBefore) / 1000), 3) };
  };
}

export function cpuFigures(server: ServerCpu, load: LoadStats): CpuFigures {
  return { serverCpuShare: server.share, serverCpuSeconds: server.seconds, loadCpuShare: load.cpuShare, loadSaturated: load.saturated };
}

/** `count` things done per second of server CPU; 0 when the server's CPU time did not move (too short to tell). */
export function perCpuSecond(count: number, server: ServerCpu): number {
  return server.seconds > 0 ? Math.round(count / server.seconds) : 0;
}

/** What a stretch that waited for a known number of deliveries yields, whether events or broadcasts. */
export interface DeliveryFigures extends CpuFigures {
  received: number;
  /** Deliveries not received by the end of the wait. */
  lost: number;
  /** True when some connection got more or fewer than `perClient`. */
  uneven: boolean;
  seconds: number;
  deliveriesPerSecond: number;
  deliveriesPerCpuSecond: number;
}

/** Timed from `startedAt` (epoch ms) to the last delivery received. */
export function deliveryFigures(
  stats: LoadStats,
  startedAt: number,
  expected: number,
  perClient: number,
  server: ServerCpu,
): DeliveryFigures {
  const seconds = (stats.lastEventAt - startedAt) / 1000;
  return {
    received: stats.received,
    lost: Math.max(0, expected - stats.received),
    uneven: stats.minPerClient !== perClient || stats.maxPerClient !== perClient,
    seconds: +seconds.toFixed(3),
    deliveriesPerSecond: Math.round(stats.received / seconds),
    deliveriesPerCpuSecond: perCpuSecond(stats.received, server),
    ...cpuFigures(server, stats),
  };
}

export const round = (value: number, digits = 1): number => +value.toFixed(digits);
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
