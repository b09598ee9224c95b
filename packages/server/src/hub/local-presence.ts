import type { Presence } from '../cluster/presence.js';
import type { Hub, HubEntry } from './hub.js';

/**
 * Presence of a single node, answered from the hub itself: the hub already counts every tab, and a second count
 * of the same thing could only drift from it.
 */
export class LocalPresence implements Presence {
  constructor(private readonly hub: Hub<HubEntry>) {}

  /** The hub counted the connection before its observers ran: this only reads that count. */
  async join(userId: string): Promise<number> {
    return this.hub.tabsOf(userId);
  }

  leave(): void {}

  isConnected(userId: string): boolean {
    return this.hub.tabsOf(userId) > 0;
  }

  connectedUsers(): string[] {
    return [...this.hub.users()];
  }

  async close(): Promise<void> {}
}
