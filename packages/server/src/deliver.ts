import type { Broker } from './broker/broker.js';
import type { Metrics } from './metrics.js';
import type { AppendInput, Store, StoredEvent } from './store/store.js';

/**
 * The one path every event takes: store (which assigns the user's seq and drops duplicates), then the broker,
 * which carries it to the hub of every node that holds the user. HTTP publish, Kafka and the library API all
 * come through here, as do the events that a user's own actions (mark-read) produce.
 */
export class Delivery {
  constructor(
    private readonly store: Store,
    private readonly broker: Broker,
    private readonly metrics: Metrics,
  ) {}

  /** Stores and delivers a batch in one transaction; returns the events stored (duplicates left out). */
  async publish(inputs: readonly AppendInput[]): Promise<StoredEvent[]> {
    if (inputs.length === 0) return [];
    const stored = await this.store.append(inputs);
    this.metrics.eventsPublished.inc(stored.length);
    this.metrics.duplicates.inc(inputs.length - stored.length);
    for (const event of stored) this.broker.publish(event);
    return stored;
  }

  async markRead(userId: string, ids: readonly string[]): Promise<string[]> {
    const event = await this.store.markRead(userId, ids);
    if (!event) return [];
    this.broker.publish(event);
    return (event.payload as { notification_ids: string[] }).notification_ids;
  }

  /** Returns whether anything was unread (and so whether all_read went out). */
  async markAllRead(userId: string): Promise<boolean> {
    const event = await this.store.markAllRead(userId);
    if (!event) return false;
    this.broker.publish(event);
    return true;
  }

  /** Sends to every connected user now; a broadcast is not stored and has no seq. */
  broadcast(type: string, payload: Record<string, unknown>): void {
    this.broker.broadcast({ type, payload });
  }
}
