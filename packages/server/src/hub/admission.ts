import { CloseCode } from '@herald/protocol';
import type { Broker } from '../broker/broker.js';
import type { Presence } from '../cluster/presence.js';
import type { Metrics } from '../metrics.js';
import { fail, ok, type Result } from '../result.js';
import { TOO_MANY_FOR_USER, type Hub, type HubEntry, type HubObserver } from './hub.js';

/** Why a connection was not admitted: the close code and reason its client gets. */
export interface Refusal {
  code: number;
  reason: string;
}

export interface AdmissionOptions<T extends HubEntry> {
  hub: Hub<T>;
  broker: Broker;
  presence: Presence;
  metrics: Metrics;
  maxConnectionsPerUser: number;
}

const ADMITTED = ok(undefined);

/**
 * The one step every connection takes before its stream opens: this node's limits (the hub), then the user's
 * connections on every node (presence), and a broker subscription for the user that is live before the stream
 * first reads the store, so that no event can fall between that read and the live ones. For the rest of the
 * connection's life it keeps the broker's subscriptions and the presence counts in step with the hub.
 */
export class Admission<T extends HubEntry> implements HubObserver<T> {
  /**
   * Kept only until awaited or settled: held for a connection's whole life they were ~150 B per idle connection.
   * A broker's subscribe never rejects (it logs and lets gap detection cover a miss), so a settled subscription
   * leaves nothing for a later tab to wait for.
   */
  private readonly joins = new WeakMap<T, Promise<number>>();
  private readonly subscriptions = new Map<string, Promise<void>>();

  constructor(private readonly options: AdmissionOptions<T>) {
    options.hub.observe(this);
  }

  /** Registers the connection, or refuses it (counted once, as `limit`); a refused one is left in no registry. */
  async admit(entry: T): Promise<Result<void, Refusal>> {
    const local = this.options.hub.add(entry);
    if (local !== undefined) return this.refuse(local);
    const joined = this.joins.get(entry);
    this.joins.delete(entry);
    const [total] = await Promise.all([joined, this.subscriptions.get(entry.userId)]);
    if ((total ?? 0) > this.options.maxConnectionsPerUser) {
      this.options.hub.remove(entry);
      return this.refuse(TOO_MANY_FOR_USER);
    }
    return ADMITTED;
  }

  added(entry: T, first: boolean): void {
    if (first) {
      const { userId } = entry;
      const subscribed = this.options.broker.subscribe(userId);
      this.subscriptions.set(userId, subscribed);
      const forget = (): void => {
        if (this.subscriptions.get(userId) === subscribed) this.subscriptions.delete(userId);
      };
      subscribed.then(forget, forget);
    }
    this.joins.set(entry, this.options.presence.join(entry.userId));
  }

  removed(entry: T, last: boolean): void {
    this.joins.delete(entry);
    this.options.presence.leave(entry.userId);
    if (!last) return;
    this.subscriptions.delete(entry.userId);
    this.options.broker.unsubscribe(entry.userId);
  }

  private refuse(reason: string): Result<void, Refusal> {
    this.options.metrics.refusedConnections.inc({ reason: 'limit' });
    return fail({ code: CloseCode.TooManyConnections, reason });
  }
}
