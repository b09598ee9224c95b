/** What the hub needs of a connection: whose it is and where it comes from. */
export interface HubEntry {
  readonly userId: string;
  readonly address: string;
}

export interface HubLimits {
  maxConnectionsPerUser: number;
  maxConnectionsPerAddress: number;
}

/** Why the hub (or the cluster) would not take a connection; the close reason the client is given. */
export const TOO_MANY_FOR_USER = 'Too many connections for this user';
export const TOO_MANY_FROM_ADDRESS = 'Too many connections from this address';

/** Told of every change to the hub, synchronously and in order, e.g. to keep cluster routing and presence in step. */
export interface HubObserver<T extends HubEntry> {
  /** `first`: the user had no other connection on this node. */
  added(entry: T, first: boolean): void;
  /** `last`: the user has no connection left on this node. */
  removed(entry: T, last: boolean): void;
}

/**
 * The registry of this node's connections: user id → that user's open tabs, and a count per client address.
 * Only admission adds and only the transport removes; delivery only reads. The limits here count this node's
 * tabs; the cluster's per-user limit is Admission's second step.
 */
export class Hub<T extends HubEntry = HubEntry> {
  /** A user's only tab is kept as is: most users have one, and a Set for one entry costs more than the entry. */
  private readonly byUser = new Map<string, T | Set<T>>();
  private readonly perAddress = new Map<string, number>();
  private count = 0;
  private readonly observers: HubObserver<T>[] = [];

  constructor(private readonly limits: HubLimits) {}

  observe(observer: HubObserver<T>): void {
    this.observers.push(observer);
  }

  /** Registers the entry, or returns the reason it would pass the per-user or per-address limit. */
  add(entry: T): string | undefined {
    const tabs = this.byUser.get(entry.userId);
    if (tabCount(tabs) >= this.limits.maxConnectionsPerUser) return TOO_MANY_FOR_USER;
    const fromAddress = this.perAddress.get(entry.address) ?? 0;
    if (fromAddress >= this.limits.maxConnectionsPerAddress) return TOO_MANY_FROM_ADDRESS;
    if (tabs === undefined) this.byUser.set(entry.userId, entry);
    else if (tabs instanceof Set) tabs.add(entry);
    else this.byUser.set(entry.userId, new Set([tabs, entry]));
    this.perAddress.set(entry.address, fromAddress + 1);
    this.count++;
    for (const observer of this.observers) observer.added(entry, tabs === undefined);
    return undefined;
  }

  /** Forgets the entry; nothing happens for one that was never added or is gone already. */
  remove(entry: T): void {
    const tabs = this.byUser.get(entry.userId);
    let last: boolean;
    if (tabs === entry) {
      this.byUser.delete(entry.userId);
      last = true;
    } else if (tabs instanceof Set && tabs.delete(entry)) {
      // Back to a single entry, so that a user who once had two tabs does not keep a Set for the one left.
      if (tabs.size === 1) this.byUser.set(entry.userId, tabs.values().next().value!);
      last = false;
    } else {
      return;
    }
    const fromAddress = (this.perAddress.get(entry.address) ?? 1) - 1;
    if (fromAddress === 0) this.perAddress.delete(entry.address);
    else this.perAddress.set(entry.address, fromAddress);
    this.count--;
    for (const observer of this.observers) observer.removed(entry, last);
  }

  connectionsOf(userId: string): Iterable<T> | undefined {
    const tabs = this.byUser.get(userId);
    return tabs instanceof Set || tabs === undefined ? tabs : [tabs];
  }

  /** The user's tabs on this node. */
  tabsOf(userId: string): number {
    return tabCount(this.byUser.get(userId));
  }

  users(): IterableIterator<string> {
    return this.byUser.keys();
  }

  *all(): IterableIterator<T> {
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

function tabCount<T>(tabs: T | Set<T> | undefined): number {
  if (tabs === undefined) return 0;
  return tabs instanceof Set ? tabs.size : 1;
}
