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

/** How busy each side was during a measured stretch: shares of one core. */
export interface CpuFigures {
  serverCpuShare: number;
  loadCpuShare: number;
  /** The load generator used (nearly) all of its core: the figure may be the load generator's, not the server's. */
  loadSaturated: boolean;
}

/** Starts a stretch of measurement: counters reset; returns a function giving the server's CPU share since. */
export async function startStretch(context: RunContext, recordLatency = false): Promise<() => number> {
  await context.load.reset(recordLatency);
  const cpuBefore = cpuSecondsOf(context.server.pid);
  const wallBefore = performance.now();
  return () => +((cpuSecondsOf(context.server.pid) - cpuBefore) / ((performance.now() - wallBefore) / 1000)).toFixed(3);
}

export function cpuFigures(serverCpuShare: number, load: LoadStats): CpuFigures {
  return { serverCpuShare, loadCpuShare: load.cpuShare, loadSaturated: load.saturated };
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
}

/** Timed from `startedAt` (epoch ms) to the last delivery received. */
export function deliveryFigures(
  stats: LoadStats,
  startedAt: number,
  expected: number,
  perClient: number,
  serverCpuShare: number,
): DeliveryFigures {
  const seconds = (stats.lastEventAt - startedAt) / 1000;
  return {
    received: stats.received,
    lost: Math.max(0, expected - stats.received),
    uneven: stats.minPerClient !== perClient || stats.maxPerClient !== perClient,
    seconds: +seconds.toFixed(3),
    deliveriesPerSecond: Math.round(stats.received / seconds),
    ...cpuFigures(serverCpuShare, stats),
  };
}

export const round = (value: number, digits = 1): number => +value.toFixed(digits);
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
