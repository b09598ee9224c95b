import { HeraldError, storeUnavailable } from '../errors.js';
import type {
  ActionResult,
  AppendInput,
  ChangeResult,
  InboxChange,
  InboxCounts,
  ListQuery,
  NotificationPage,
  NotificationTarget,
  Store,
  StoredEvent,
  StreamBounds,
  SweepOptions,
  SweepResult,
  UnreadCount,
} from './store.js';
import { isStoreUnavailable } from './unavailable.js';

/**
 * The store with every outage (the database cannot be reached right now, see isStoreUnavailable) turned into an
 * Unavailable HeraldError that keeps the driver's error as its cause, so HTTP, Kafka ingestion and replay all
 * see the same error and none of them reads driver messages. Any other error goes through unchanged.
 *
 * Plain methods with try/catch, not a Proxy: append, eventsAfter and headSeq are on every publish and every
 * delivery, and a direct call costs one await more than the store itself.
 */
export function guardOutages(store: Store): Store {
  return store instanceof OutageGuard ? store : new OutageGuard(store);
}

class OutageGuard implements Store {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  async migrate(): Promise<void> {
    try {
      return await this.#store.migrate();
    } catch (error) {
      throw asOutage(error);
    }
  }

  async append(inputs: readonly AppendInput[]): Promise<StoredEvent[]> {
    try {
      return await this.#store.append(inputs);
    } catch (error) {
      throw asOutage(error);
    }
  }

  async markRead(userId: string, ids: readonly string[]): Promise<StoredEvent | null> {
    try {
      return await this.#store.markRead(userId, ids);
    } catch (error) {
      throw asOutage(error);
    }
  }

  async markAllRead(userId: string): Promise<StoredEvent | null> {
    try {
      return await this.#store.markAllRead(userId);
    } catch (error) {
      throw asOutage(error);
    }
  }

  async eventsAfter(userId: string, since: number, limit: number, maxBytes?: number): Promise<StoredEvent[]> {
    try {
      return await this.#store.eventsAfter(userId, since, limit, maxBytes);
    } catch (error) {
      throw asOutage(error);
    }
  }

  async headSeq(userId: string): Promise<number> {
    try {
      return await this.#store.headSeq(userId);
    } catch (error) {
      throw asOutage(error);
    }
  }

  async listNotifications(userId: string, query: ListQuery): Promise<NotificationPage> {
    try {
      return await this.#store.listNotifications(userId, query);
    } catch (error) {
      throw asOutage(error);
    }
  }

  async unreadCount(userId: string): Promise<UnreadCount> {
    try {
      return await this.#store.unreadCount(userId);
    } catch (error) {
      throw asOutage(error);
    }
  }

  async changeNotifications(userId: string, change: InboxChange, target: NotificationTarget): Promise<ChangeResult> {
    try {
      return await this.#store.changeNotifications(userId, change, target);
    } catch (error) {
      throw asOutage(error);
    }
  }

  async recordAction(userId: string, notificationId: string, actionId: string): Promise<ActionResult> {
    try {
      return await this.#store.recordAction(userId, notificationId, actionId);
    } catch (error) {
      throw asOutage(error);
    }
  }

  async eraseUser(userId: string): Promise<boolean> {
    try {
      return await this.#store.eraseUser(userId);
    } catch (error) {
      throw asOutage(error);
    }
  }

  async sweep(options: SweepOptions): Promise<SweepResult> {
    try {
      return await this.#store.sweep(options);
    } catch (error) {
      throw asOutage(error);
    }
  }

  async streamBounds(userId: string): Promise<StreamBounds> {
    try {
      return await this.#store.streamBounds(userId);
    } catch (error) {
      throw asOutage(error);
    }
  }

  async counts(userId: string): Promise<InboxCounts> {
    try {
      return await this.#store.counts(userId);
    } catch (error) {
      throw asOutage(error);
    }
  }

  async ping(): Promise<void> {
    try {
      return await this.#store.ping();
    } catch (error) {
      throw asOutage(error);
    }
  }

  async close(): Promise<void> {
    try {
      return await this.#store.close();
    } catch (error) {
      throw asOutage(error);
    }
  }
}

/** A HeraldError is already what callers expect (an inner guard's Unavailable is not wrapped twice). */
function asOutage(error: unknown): unknown {
  return !(error instanceof HeraldError) && isStoreUnavailable(error) ? storeUnavailable(error) : error;
}
