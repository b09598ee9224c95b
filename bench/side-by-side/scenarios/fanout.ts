import { inFlight } from '../publisher.js';
import { deliveryFigures, startStretch, type DeliveryFigures, type RunContext } from '../run-context.js';

/** `lost` is 0 when every user got every round; `uneven` when some connection got more or fewer than one per round. */
export interface FanoutResult extends DeliveryFigures {
  events: number;
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
  return { events, ...deliveryFigures(stats, started, events, options.fanoutRounds, serverCpu()) };
}
