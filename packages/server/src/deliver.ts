import type { Broker } from './broker/broker.js';
import type { Metrics } from './metrics.js';
import type { ActionResult, AppendInput, InboxChange, NotificationTarget, Store, StoredEvent } from './store/store.js';

/** A batch stored and not yet delivered (Delivery.storeBatch). */
export interface StoredBatch {
  /** The events stored, duplicates left out. */
  events: StoredEvent[];
  /** Hands the events to the broker, in order; call it once. */
  deliver(): void;
}

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
    const batch = await this.storeBatch(inputs);
    batch.deliver();
    return batch.events;
  }

  /**
   * Stores a batch in one transaction and leaves its delivery to the caller: a source that has the next batch at
   * hand starts storing it before delivering this one, so that the two overlap (the Kafka source). Until
   * deliver() is called a connected tab has not been sent the events; it still gets them in order, since a
   * later event finds the gap and the tab catches up from the store.
   */
  async storeBatch(inputs: readonly AppendInput[]): Promise<StoredBatch> {
    if (inputs.length === 0) return { events: [], deliver: () => {} };
    const stored = await this.store.append(inputs);
    this.metrics.eventsPublished.inc(stored.length);
    this.metrics.duplicates.inc(inputs.length - stored.length);
    return {
      events: stored,
      deliver: () => {
        for (const event of stored) this.broker.publish(event);
      },
    };
  }

  async markRead(userId: string, ids: readonly string[]): Promise<string[]> {
    return this.change(userId, 'read', { ids });
  }

  /** Applies a user's change to their notifications; returns the ids that changed. */
  async change(userId: string, change: InboxChange, target: NotificationTarget): Promise<string[]> {
    const { ids, events } = await this.store.changeNotifications(userId, change, target);
    for (const event of events) this.broker.publish(event);
    return ids;
  }

  async recordAction(userId: string, notificationId: string, actionId: string): Promise<ActionResult> {
    const result = await this.store.recordAction(userId, notificationId, actionId);
    if (result.outcome === 'recorded') this.broker.publish(result.event);
    return result;
  }

  /**
   * Erases everything stored for the user, then closes the user's connections on every node (UserErased): a tab
   * that reconnects finds an empty stream. Returns whether anything was stored.
   */
  async eraseUser(userId: string): Promise<boolean> {
    const erased = await this.store.eraseUser(userId);
    this.broker.erase(userId);
    return erased;
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
