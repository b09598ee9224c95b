import { CloseCode } from '@herald/protocol';
import type { Broker } from '../broker/broker.js';
import type { AdmitResult, HubObserver } from '../hub/hub.js';
import type { Connection } from '../transport/connection.js';
import type { Presence } from './presence.js';

export interface ClusterMembershipOptions {
  broker: Broker;
  presence: Presence;
  maxConnectionsPerUser: number;
}

/**
 * Keeps the broker's subscriptions and the presence counts in step with this node's hub: the broker follows a
 * user while this node holds one of the user's connections, and presence counts every connection. `admit` is
 * the second half of admission, the part that needs the network: the per-user limit over every node, and a
 * subscription that is live before the connection first reads the store.
 */
export class ClusterMembership implements HubObserver {
  private readonly joins = new WeakMap<Connection, Promise<number>>();
  private readonly subscriptions = new Map<string, Promise<void>>();

  constructor(private readonly options: ClusterMembershipOptions) {}

  /**
   * The promises are kept only until they settle or are awaited: held for a connection's whole life they were
   * ~150 B per idle connection. A broker's subscribe never rejects (it logs and lets gap detection cover a miss),
   * so a settled subscription leaves nothing for a later tab to wait for.
   */
  added(connection: Connection, first: boolean): void {
    if (first) {
      const { userId } = connection;
      const subscribed = this.options.broker.subscribe(userId);
      this.subscriptions.set(userId, subscribed);
      const forget = (): void => {
        if (this.subscriptions.get(userId) === subscribed) this.subscriptions.delete(userId);
      };
      subscribed.then(forget, forget);
    }
    this.joins.set(connection, this.options.presence.join(connection.userId));
  }

  removed(connection: Connection, last: boolean): void {
    this.options.presence.leave(connection.userId);
    if (!last) return;
    this.subscriptions.delete(connection.userId);
    this.options.broker.unsubscribe(connection.userId);
  }

  /** Resolves once the connection may read the store and go live, or with the reason it must close. */
  async admit(connection: Connection): Promise<AdmitResult> {
    const joined = this.joins.get(connection);
    this.joins.delete(connection);
    const [total] = await Promise.all([joined, this.subscriptions.get(connection.userId)]);
    if ((total ?? 0) > this.options.maxConnectionsPerUser) {
      return { ok: false, code: CloseCode.TooManyConnections, reason: 'Too many connections for this user' };
    }
    return { ok: true };
  }
}
