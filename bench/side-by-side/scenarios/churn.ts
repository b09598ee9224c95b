import type { MemorySample } from '../inspector-memory.js';
import { cpuFigures, perCpuSecond, round, startStretch, type CpuFigures, type RunContext } from '../run-context.js';

export interface ChurnResult extends CpuFigures {
  connections: number;
  seconds: number;
  /** Connections closed and opened again during the measured stretch. */
  churned: number;
  /** Connections closed and opened again per second of server CPU. */
  churnedPerCpuSecond: number;
  /** Memory after a forced GC, with all connections open, before and after the measured stretch. */
  start: MemorySample;
  end: MemorySample;
  rssGrowthPercent: number;
  heapGrowthPercent: number;
  ready: number;
}

/**
 * Scenario 5: steady connects and disconnects while the rest stay open; RSS at the end against the start.
 * A warm-up stretch comes first, so that pools and caches filled on first use do not read as a leak.
 */
export async function churn(context: RunContext): Promise<ChurnResult> {
  const { load, options } = context;
  const allOpen = () => load.until((now) => now.ready === options.connections, options.waitTimeoutMs);
  if (options.churnWarmupSeconds > 0) await load.churn(options.churnWarmupSeconds, options.churnPerSecond);
  await allOpen();
  const start = await context.server.memory();
  const serverCpu = await startStretch(context);
  const churned = await load.churn(options.churnSeconds, options.churnPerSecond);
  const server = serverCpu();
  const cpu = cpuFigures(server, churned);
  const settled = await allOpen();
  const end = await context.server.memory();
  const growth = (from: number, to: number) => round(((to - from) / from) * 100, 2);
  return {
    connections: options.connections,
    seconds: options.churnSeconds,
    churned: churned.churned,
    churnedPerCpuSecond: perCpuSecond(churned.churned, server),
    start,
    end,
    rssGrowthPercent: growth(start.rss, end.rss),
    heapGrowthPercent: growth(start.heapUsed, end.heapUsed),
    ready: settled.ready,
    ...cpu,
  };
}
