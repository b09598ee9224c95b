import { percentile } from '../../herald-process.js';
import { nowMs } from '../client-protocols.js';
import { round, cpuFigures, perCpuSecond, sleep, startStretch, type CpuFigures, type RunContext } from '../run-context.js';

export interface LatencyResult extends CpuFigures {
  /** The rate asked for (half of bare ws's maximum, or the steady rate every server sustains) and the rate kept. */
  targetPerSecond: number;
  offeredPerSecond: number;
  events: number;
  received: number;
  lost: number;
  /** From the first publish to the last delivery; at a sustained rate, close to the offered rate. */
  deliveriesPerSecond: number;
  deliveriesPerCpuSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const TICK_MS = 10;

/**
 * Scenarios 2b and 2c: publish-to-receive latency at a fixed offered rate (half of bare ws's maximum, and a steady
 * rate that every server sustains). Every tick publishes the events due by then
 * (users in turn), without waiting for earlier requests, so that a slow server meets the same offered load and
 * its queue shows in the latency instead of slowing the publisher down.
 */
export async function latency(context: RunContext, ratePerSecond: number): Promise<LatencyResult> {
  const { options, users, publisher, load } = context;
  const serverCpu = await startStretch(context, true);
  const requests: Promise<void>[] = [];
  let published = 0;
  const startedAt = nowMs();
  const started = performance.now();
  const end = started + options.fixedRateSeconds * 1000;
  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - started) / 1000) * ratePerSecond);
    while (published < due) {
      const count = Math.min(due - published, options.publishBatch);
      const batch = Array.from({ length: count }, (_, offset) => users[(published + offset) % users.length]!);
      requests.push(publisher.publish(batch));
      published += count;
    }
    await sleep(TICK_MS);
  }
  const offeredSeconds = (performance.now() - started) / 1000;
  await Promise.all(requests);
  const stats = await load.until((now) => now.received >= published, options.waitTimeoutMs);
  const server = serverCpu();
  const cpu = cpuFigures(server, stats);
  const latencies = (await load.stats(true)).latencies.sort((a, b) => a - b);
  return {
    targetPerSecond: Math.round(ratePerSecond),
    offeredPerSecond: Math.round(published / offeredSeconds),
    events: published,
    received: stats.received,
    lost: Math.max(0, published - stats.received),
    deliveriesPerSecond: stats.lastEventAt > startedAt ? Math.round(stats.received / ((stats.lastEventAt - startedAt) / 1000)) : 0,
    deliveriesPerCpuSecond: perCpuSecond(stats.received, server),
    p50Ms: round(percentile(latencies, 50), 2),
    p99Ms: round(percentile(latencies, 99), 2),
    maxMs: round(latencies.at(-1) ?? 0, 2),
    ...cpu,
  };
}
