import { CloseCode } from '@herald/protocol';
import type { Connection } from '../transport/connection.js';

export interface HubLimits {
  maxConnectionsPerUser: number;
  maxConnectionsPerAddress: number;
}

export type AdmitResult = { ok: true } | { ok: false; code: number; reason: string };

/** Told of every change to the hub, synchronously and in order, e.g. to keep cluster routing and presence in step. */
export interface HubObserver {
  /** `first`: the user had no other connection on this node. */
  added(connection: Connection, first: boolean): void;
  /** `last`: the user has no connection left on this node. */
  removed(connection: Connection, last: boolean): void;
}

/**
 * The registry of this node's connections: user id → that user's open tabs, and a count per client address.
 * Only the transport adds and removes; delivery only reads. The per-user limit here counts this node's tabs;
 * in a cluster, ClusterMembership checks the user's tabs on every node once the connection is admitted here.
 */
export class Hub {
  private readonly byUser = new Map<string, Set<Connection>>();
  private readonly perAddress = new Map<string, number>();
  private count = 0;

  constructor(
    private readonly limits: HubLimits,
    private readonly observer?: HubObserver,
  ) {}

  /** Registers the connection unless it would pass a per-user or per-address limit. */
  admit(connection: Connection): AdmitResult {
    const tabs = this.byUser.get(connection.userId);
    if ((tabs?.size ?? 0) >= this.limits.maxConnectionsPerUser) {
      return { ok: false, code: CloseCode.TooManyConnections, reason: 'Too many connections for this user' };
    }
    const fromAddress = this.perAddress.get(connection.address) ?? 0;
    if (fromAddress >= this.limits.maxConnectionsPerAddress) {
      return { ok: false, code: CloseCode.TooManyConnections, reason: 'Too many connections from this address' };
    }
    if (tabs) tabs.add(connection);
    else this.byUser.set(connection.userId, new Set([connection]));
    this.perAddress.set(connection.address, fromAddress + 1);
    this.count++;
    this.observer?.added(connection, tabs === undefined);
    return { ok: true };
  }

  remove(connection: Connection): void {
    const tabs = this.byUser.get(connection.userId);
    if (!tabs?.delete(connection)) return;
    if (tabs.size === 0) this.byUser.delete(connection.userId);
    const fromAddress = (this.perAddress.get(connection.address) ?? 1) - 1;
    if (fromAddress === 0) this.perAddress.delete(connection.address);
    else this.perAddress.set(connection.address, fromAddress);
    this.count--;
    this.observer?.removed(connection, tabs.size === 0);
  }

  connectionsOf(userId: string): ReadonlySet<Connection> | undefined {
    return this.byUser.get(userId);
  }

  isConnected(userId: string): boolean {
    return this.byUser.has(userId);
  }

  connectedUsers(): string[] {
    return [...this.byUser.keys()];
  }

  *all(): IterableIterator<Connection> {
    for (const tabs of this.byUser.values()) yield* tabs;
  }

  get connectionCount(): number {
    return this.count;
  }

  get userCount(): number {
    return this.byUser.size;
  }
}
