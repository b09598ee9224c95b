import type { Notification, StreamFrame } from '@herald/protocol';
import type { Disposer } from './emitter.js';
import type { ConnectionState, HeraldClient } from './herald-client.js';

export interface InboxSnapshot {
  /** Newest first: the first page, then whatever loadMore() added, kept current by the stream. */
  notifications: readonly Notification[];
  unreadCount: number;
  state: ConnectionState;
  /** True while the first page and the count are being fetched. */
  loading: boolean;
  hasMore: boolean;
  /** The last REST failure, cleared by the next success. */
  error: string | null;
}

export interface InboxOptions {
  pageSize?: number;
}

/**
 * A user's inbox kept current from one HeraldClient: the list, the unread count and the connection state, as an
 * immutable snapshot that changes only when something did (what useSyncExternalStore needs).
 *
 * The count stays exact without re-fetching on every event: Herald returns the count together with the seq it
 * was read at, and only the stream events after that seq are applied to it. The list takes every event, because
 * each change to it is idempotent (dedupe by id, mark read).
 */
export class Inbox {
  readonly #client: HeraldClient;
  readonly #pageSize: number;
  readonly #listeners = new Set<() => void>();
  readonly #disposers: Disposer[] = [];
  #snapshot: InboxSnapshot;
  #cursor: string | null = null;
  /** Events seen since the current refresh began, replayed over its answers. */
  #pending: StreamFrame[] | undefined;
  #refreshes = 0;

  constructor(client: HeraldClient, options: InboxOptions = {}) {
    this.#client = client;
    this.#pageSize = options.pageSize ?? 20;
    this.#snapshot = { notifications: [], unreadCount: 0, state: client.state, loading: false, hasMore: false, error: null };
    this.#disposers.push(
      client.on('state', (state) => this.#update({ state })),
      client.on('event', (frame) => this.#onEvent(frame)),
      // A connection that did not continue the old stream (first one, or Herald's data moved) starts over.
      client.on('connected', (_payload, { resumed }) => {
        if (!resumed) void this.refresh();
      }),
    );
  }

  getSnapshot = (): InboxSnapshot => this.#snapshot;

  subscribe = (listener: () => void): Disposer => {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  };

  /** Fetches the first page and the count again, keeping the events that arrive meanwhile. */
  async refresh(): Promise<void> {
    const refresh = ++this.#refreshes;
    this.#pending = [];
    this.#update({ loading: true });
    try {
      const [page, unread] = await Promise.all([this.#client.list({ limit: this.#pageSize }), this.#client.unreadCount()]);
      if (refresh !== this.#refreshes) return;
      const pending = this.#pending ?? [];
      this.#pending = undefined;
      let notifications: readonly Notification[] = page.items;
      let unreadCount = unread.count;
      for (const frame of pending) {
        notifications = applyToList(notifications, frame);
        if (frame.seq > unread.seq) unreadCount = applyToCount(unreadCount, frame);
      }
      this.#cursor = page.next_cursor;
      this.#update({ notifications, unreadCount, loading: false, hasMore: page.next_cursor !== null, error: null });
    } catch (error) {
      if (refresh !== this.#refreshes) return;
      this.#pending = undefined;
      this.#update({ loading: false, error: describe(error) });
    }
  }

  /** Appends the next older page. */
  async loadMore(): Promise<void> {
    if (this.#cursor === null) return;
    try {
      const page = await this.#client.list({ limit: this.#pageSize, cursor: this.#cursor });
      const known = new Set(this.#snapshot.notifications.map((item) => item.id));
      this.#cursor = page.next_cursor;
      this.#update({
        notifications: [...this.#snapshot.notifications, ...page.items.filter((item) => !known.has(item.id))],
        hasMore: page.next_cursor !== null,
        error: null,
      });
    } catch (error) {
      this.#update({ error: describe(error) });
    }
  }

  /** Herald answers with notification_read on every tab of the user, this one included; the change comes from there. */
  async markRead(id: string): Promise<void> {
    await this.#act(() => this.#client.markRead([id]));
  }

  async markAllRead(): Promise<void> {
    await this.#act(() => this.#client.markAllRead());
  }

  dispose(): void {
    for (const dispose of this.#disposers.splice(0)) dispose();
    this.#listeners.clear();
  }

  async #act(action: () => Promise<unknown>): Promise<void> {
    try {
      await action();
      if (this.#snapshot.error !== null) this.#update({ error: null });
    } catch (error) {
      this.#update({ error: describe(error) });
      throw error;
    }
  }

  #onEvent(frame: StreamFrame): void {
    if (this.#pending !== undefined) {
      this.#pending.push(frame);
      return;
    }
    this.#update({
      notifications: applyToList(this.#snapshot.notifications, frame),
      unreadCount: applyToCount(this.#snapshot.unreadCount, frame),
    });
  }

  #update(change: Partial<InboxSnapshot>): void {
    const next = { ...this.#snapshot, ...change };
    const keys = Object.keys(change) as (keyof InboxSnapshot)[];
    if (keys.every((key) => next[key] === this.#snapshot[key])) return;
    this.#snapshot = next;
    for (const listener of [...this.#listeners]) listener();
  }
}

function applyToList(list: readonly Notification[], frame: StreamFrame): readonly Notification[] {
  switch (frame.type) {
    case 'new_notification':
      return list.some((item) => item.id === frame.payload.id) ? list : [frame.payload, ...list];
    case 'notification_read': {
      const ids = new Set(frame.payload.notification_ids);
      return list.some((item) => ids.has(item.id) && item.status === 'unread')
        ? list.map((item) => (ids.has(item.id) && item.status === 'unread' ? markedRead(item) : item))
        : list;
    }
    case 'all_read':
      return list.some((item) => item.status === 'unread') ? list.map((item) => (item.status === 'unread' ? markedRead(item) : item)) : list;
    default:
      return list;
  }
}

/** notification_read lists only the ids that were unread until then, so it lowers the count by exactly that many. */
function applyToCount(count: number, frame: StreamFrame): number {
  switch (frame.type) {
    case 'new_notification':
      return count + 1;
    case 'notification_read':
      return Math.max(0, count - frame.payload.notification_ids.length);
    case 'all_read':
      return 0;
    default:
      return count;
  }
}

function markedRead(item: Notification): Notification {
  return { ...item, status: 'read', read_at: item.read_at ?? new Date().toISOString() };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
