import type { Presence } from './presence.js';

/** Presence of a single node: a count per user in this process, which is also the local part of RedisPresence. */
export class MemoryPresence implements Presence {
  private readonly counts = new Map<string, number>();

  async join(userId: string): Promise<number> {
    return this.add(userId);
  }

  leave(userId: string): void {
    this.remove(userId);
  }

  /** Counts one more; returns the user's count on this node. */
  add(userId: string): number {
    const count = (this.counts.get(userId) ?? 0) + 1;
    this.counts.set(userId, count);
    return count;
  }

  /** Counts one less; returns the user's count on this node. */
  remove(userId: string): number {
    const count = (this.counts.get(userId) ?? 0) - 1;
    if (count > 0) this.counts.set(userId, count);
    else this.counts.delete(userId);
    return Math.max(count, 0);
  }

  isConnected(userId: string): boolean {
    return this.counts.has(userId);
  }

  connectedUsers(): string[] {
    return [...this.counts.keys()];
  }

  entries(): IterableIterator<[string, number]> {
    return this.counts.entries();
  }

  async close(): Promise<void> {
    this.counts.clear();
  }
}
