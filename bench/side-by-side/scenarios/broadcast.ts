import { inFlight } from '../publisher.js';
import { deliveryFigures, startStretch, type DeliveryFigures, type RunContext } from '../run-context.js';

export interface BroadcastResult extends DeliveryFigures {
  broadcasts: number;
  deliveries: number;
}

/** Scenario 3: one event to every connection, repeated; deliveries per second. */
export async function broadcast(context: RunContext): Promise<BroadcastResult> {
  const { options, publisher, load, users } = context;
  const deliveries = users.length * options.broadcasts;
  const serverCpu = await startStretch(context);
  const started = performance.timeOrigin + performance.now();
  await inFlight(
    Array.from({ length: options.broadcasts }, () => () => publisher.broadcast(users)),
    2,
  );
  const stats = await load.until((now) => now.received >= deliveries, options.waitTimeoutMs);
  return {
    broadcasts: options.broadcasts,
    deliveries,
    ...deliveryFigures(stats, started, deliveries, options.broadcasts, serverCpu()),
  };
}
