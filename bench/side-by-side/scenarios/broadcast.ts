import { inFlight } from '../publisher.js';
import { cpuFigures, startStretch, type CpuFigures, type RunContext } from '../run-context.js';

export interface BroadcastResult extends CpuFigures {
  broadcasts: number;
  deliveries: number;
  received: number;
  lost: number;
  uneven: boolean;
  seconds: number;
  deliveriesPerSecond: number;
}

/** Scenario 3: one event to every connection, repeated; deliveries per second. */
export async function broadcast(context: RunContext): Promise<BroadcastResult> {
  const { options, publisher, load, users } = context;
  const deliveries = users.length * options.broadcasts;
  const serverCpu = await startStretch(context);
  const started = performance.timeOrigin + performance.now();
  await inFlight(
    Array.from({ length: options.broadcasts }, () => () => publisher.broadcast()),
    2,
  );
  const stats = await load.until((now) => now.received >= deliveries, options.waitTimeoutMs);
  const seconds = (stats.lastEventAt - started) / 1000;
  return {
    broadcasts: options.broadcasts,
    deliveries,
    received: stats.received,
    lost: Math.max(0, deliveries - stats.received),
    uneven: stats.minPerClient !== options.broadcasts || stats.maxPerClient !== options.broadcasts,
    seconds: +seconds.toFixed(3),
    deliveriesPerSecond: Math.round(stats.received / seconds),
    ...cpuFigures(serverCpu(), stats),
  };
}
