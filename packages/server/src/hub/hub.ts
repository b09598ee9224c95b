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
  /** A user's only tab is kept as is: most users have one, and a Set for one entry costs more than the entry. */
  private readonly byUser = new Map<string, Connection | Set<Connection>>();
  private readonly perAddress = new Map<string, number>();
  private count = 0;

  constructor(
    private readonly limits: HubLimits,
    private readonly observer?: HubObserver,
  ) {}

  /** Registers the connection unless it would pass a per-user or per-address limit. */
  admit(connection: Connection): AdmitResult {
    const tabs = this.byUser.get(connection.userId);
    if (tabCount(tabs) >= this.limits.maxConnectionsPerUser) {
      return { ok: false, code: CloseCode.TooManyConnections, reason: 'Too many connections for this user' };
    }
    const fromAddress = this.perAddress.get(connection.address) ?? 0;
    if (fromAddress >= this.limits.maxConnectionsPerAddress) {
      return { ok: false, code: CloseCode.TooManyConnections, reason: 'Too many connections from this address' };
    }
    if (tabs === undefined) this.byUser.set(connection.userId, connection);
    else if (tabs instanceof Set) tabs.add(connection);
    else this.byUser.set(connection.userId, new Set([tabs, connection]));
    this.perAddress.set(connection.address, fromAddress + 1);
    this.count++;
    this.observer?.added(connection, tabs === undefined);
    return { ok: true };
  }

  remove(connection: Connection): void {
    const tabs = this.byUser.get(connection.userId);
    let last: boolean;
    if (tabs === connection) {
      this.byUser.delete(connection.userId);
      last = true;
    } else if (tabs instanceof Set && tabs.delete(connection)) {
      // Back to a single entry, so that a user who once had two tabs does not keep a Set for the one left.
      if (tabs.size === 1) this.byUser.set(connection.userId, tabs.values().next().value!);
      last = false;
    } else {
      return;
    }
    const fromAddress = (this.perAddress.get(connection.address) ?? 1) - 1;
    if (fromAddress === 0) this.perAddress.delete(connection.address);
    else this.perAddress.set(connection.address, fromAddress);
    this.count--;
    this.observer?.removed(connection, last);
  }

  connectionsOf(userId: string): Iterable<Connection> | undefined {
    const tabs = this.byUser.get(userId);
    return tabs instanceof Set || tabs === undefined ? tabs : [tabs];
  }

  isConnected(userId: string): boolean {
    return this.byUser.has(userId);
  }

  connectedUsers(): string[] {
    return [...this.byUser.keys()];
  }

  *all(): IterableIterator<Connection> {
    for (const tabs of this.byUser.values()) {
      if (tabs instanceof Set) yield* tabs;
      else yield tabs;
    }
  }

  get connectionCount(): number {
    return this.count;
  }

  get userCount(): number {
    return this.byUser.size;
  }
}

function tabCount(tabs: Connection | Set<Connection> | undefined): number {
  if (tabs === undefined) return 0;
  return tabs instanceof Set ? tabs.size : 1;
}
