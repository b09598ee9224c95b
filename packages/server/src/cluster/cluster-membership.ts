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

  added(connection: Connection, first: boolean): void {
    if (first) this.subscriptions.set(connection.userId, this.options.broker.subscribe(connection.userId));
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
    const [total] = await Promise.all([this.joins.get(connection), this.subscriptions.get(connection.userId)]);
    if ((total ?? 0) > this.options.maxConnectionsPerUser) {
      return { ok: false, code: CloseCode.TooManyConnections, reason: 'Too many connections for this user' };
    }
    return { ok: true };
  }
}
