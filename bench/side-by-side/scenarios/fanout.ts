import { inFlight } from '../publisher.js';
import { cpuFigures, startStretch, type CpuFigures, type RunContext } from '../run-context.js';

export interface FanoutResult extends CpuFigures {
  events: number;
  received: number;
  /** Events not received by the end of the wait (0 when every user got every round). */
  lost: number;
  /** True when some connection got more or fewer than one event per round. */
  uneven: boolean;
  seconds: number;
  deliveriesPerSecond: number;
}

/**
 * Scenario 2a: per-user fan-out as fast as it goes. Rounds of one event per user, `publishBatch` users to a
 * body and `publishConcurrency` bodies in flight; timed from the first request to the last event received.
 */
export async function fanout(context: RunContext): Promise<FanoutResult> {
  const { options, users, publisher, load } = context;
  const batches: string[][] = [];
  for (let round = 0; round < options.fanoutRounds; round++) {
    for (let start = 0; start < users.length; start += options.publishBatch) batches.push(users.slice(start, start + options.publishBatch));
  }
  const events = users.length * options.fanoutRounds;
  const serverCpu = await startStretch(context);
  const started = performance.timeOrigin + performance.now();
  await inFlight(
    batches.map((batch) => () => publisher.publish(batch)),
    options.publishConcurrency,
  );
  const stats = await load.until((now) => now.received >= events, options.waitTimeoutMs);
  const seconds = (stats.lastEventAt - started) / 1000;
  return {
    events,
    received: stats.received,
    lost: Math.max(0, events - stats.received),
    uneven: stats.minPerClient !== options.fanoutRounds || stats.maxPerClient !== options.fanoutRounds,
    seconds: +seconds.toFixed(3),
    deliveriesPerSecond: Math.round(stats.received / seconds),
    ...cpuFigures(serverCpu(), stats),
  };
}
