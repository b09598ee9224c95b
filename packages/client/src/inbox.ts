import type { CountsBody, Notification, StreamFrame } from '@herald/protocol';
import { systemClock, type Clock } from './clock.js';
import type { Disposer } from './emitter.js';
import { ExpiryTimer } from './expiry-timer.js';
import type { ConnectionState, HeraldClient } from './herald-client.js';
import type { ListOptions, NotificationChange } from './inbox-api.js';
import { countsAfter, NO_COUNTS } from './inbox-counts.js';
import { applyToList, DEFAULT_VIEW, filterChanged, inView, type InboxView } from './inbox-list.js';
import { isExpired } from './notification-expiry.js';

export interface InboxSnapshot {
  /** Newest first: the view's first page, then whatever loadMore() added, kept current by the stream. */
  notifications: readonly Notification[];
  /** Unread notifications in the inbox (every category, archived and expired ones not counted). */
  unreadCount: number;
  /** Notifications not yet seen, counted as unreadCount is. */
  unseenCount: number;
  /** The totals and each category's unread and unseen counts; a category not listed has no unread one. */
  counts: CountsBody;
  /** The categories this inbox knows of, sorted: those with unread notifications and those it has listed. */
  categories: readonly string[];
  /** What `notifications` lists: one category or all, the inbox or the archive. */
  view: InboxView;
  state: ConnectionState;
  /** True while the view's first page or the counts are being fetched. */
  loading: boolean;
  hasMore: boolean;
  /** The last REST failure, cleared by the next success and by a new connection. */
  error: string | null;
}

export interface InboxOptions {
  pageSize?: number;
  /** The view to list first (default: every category, not archived). */
  view?: Partial<InboxView>;
  /** When notifications expire; tests pass a fake one. */
  clock?: Clock;
}

/** A load in flight, and the stream events that arrived while it was: they are applied over its answer. */
interface Load {
  events: StreamFrame[];
}

/**
 * A user's inbox kept current from one HeraldClient: a view's list, the counts (in total and per category) and the
 * connection state, as an immutable snapshot that changes only when something did (what useSyncExternalStore
 * needs).
 *
 * The counts stay exact without re-fetching on every event: Herald returns them together with the seq they were
 * read at, and only stream events after that seq are applied to them (an event of the user's own changes carries
 * the counts right after it, which are taken as they are). The list takes every event, because each change to it
 * sets what the event says (dedupe by id, set fields, remove), so one it already reflects changes nothing.
 */
export class Inbox {
  readonly #client: HeraldClient;
  readonly #pageSize: number;
  readonly #clock: Clock;
  readonly #listeners = new Set<() => void>();
  readonly #disposers: Disposer[] = [];
  readonly #expiry: ExpiryTimer;
  readonly #categories = new Set<string>();
  #snapshot: InboxSnapshot;
  #cursor: string | null = null;
  #listLoad: Load | undefined;
  readonly #moreLoads = new Set<Load>();
  #countsLoad: Load | undefined;
  /** The seq the counts are as of; an event at or below it is already in them. */
  #countsSeq: number | undefined;

  constructor(client: HeraldClient, options: InboxOptions = {}) {
    this.#client = client;
    this.#pageSize = options.pageSize ?? 20;
    this.#clock = options.clock ?? systemClock;
    this.#expiry = new ExpiryTimer(this.#clock, () => this.#dropExpired());
    this.#snapshot = {
      notifications: [],
      unreadCount: 0,
      unseenCount: 0,
      counts: NO_COUNTS,
      categories: [],
      view: { ...DEFAULT_VIEW, ...options.view },
      state: client.state,
      loading: false,
      hasMore: false,
      error: null,
    };
    this.#disposers.push(
      client.on('state', (state) => this.#update({ state })),
      client.on('event', (frame) => this.#onEvent(frame)),
      client.on('connected', (_payload, { resumed }) => {
        // Whatever failed before this connection is not news any more.
        if (this.#snapshot.error !== null) this.#update({ error: null });
        // A connection that did not continue the old stream (first one, or Herald's data moved) starts over.
        if (!resumed) void this.refresh();
      }),
      // Herald could not replay what this client missed: load it all again, and go on with the stream after it.
      // (After a resume's reset Herald's `connected` did not continue the stream either, so that load is begun
      // twice; the second supersedes the first, which is cheaper than telling the cases apart.)
      client.on('reset', () => void this.refresh()),
    );
  }

  getSnapshot = (): InboxSnapshot => this.#snapshot;

  subscribe = (listener: () => void): Disposer => {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  };

  /** Fetches the view's first page and the counts again, keeping the events that arrive meanwhile. */
  async refresh(): Promise<void> {
    await Promise.all([this.#loadList(), this.#loadCounts()]);
  }

  /** Lists another view (a category, all of them, the archive); the counts stay as they are. */
  async setView(view: Partial<InboxView>): Promise<void> {
    const next = { ...this.#snapshot.view, ...view };
    if (next.category === this.#snapshot.view.category && next.archived === this.#snapshot.view.archived) return;
    this.#cursor = null;
    this.#update({ view: next, notifications: [], hasMore: false });
    await this.#loadList();
  }

  /** Appends the next older page. */
  async loadMore(): Promise<void> {
    if (this.#cursor === null) return;
    const view = this.#snapshot.view;
    // Events that arrive meanwhile are applied to the list at once and, over the older page, once it is in.
    const load: Load = { events: [] };
    this.#moreLoads.add(load);
    try {
      const page = await this.#client.list({ ...listQuery(view), limit: this.#pageSize, cursor: this.#cursor });
      if (view !== this.#snapshot.view) return;
      const known = new Set(this.#snapshot.notifications.map((item) => item.id));
      const now = this.#clock.now();
      let older = filterChanged(page.items, (item) => !known.has(item.id) && inView(view, item, now));
      // A new notification went to the top of the list already; the rest may change what the older page holds.
      for (const frame of load.events) if (frame.type !== 'new_notification') older = applyToList(older, frame, view, now).list;
      this.#cursor = page.next_cursor;
      this.#setList([...this.#snapshot.notifications, ...older], { hasMore: page.next_cursor !== null, error: null });
    } catch (error) {
      this.#update({ error: describe(error) });
    } finally {
      this.#moreLoads.delete(load);
    }
  }

  /**
   * Herald answers each change with an event on every tab of the user, this one included; the lists and counts
   * change from there, not here. A failure shows in `error` and is rethrown.
   */
  async markRead(ids: string | readonly string[]): Promise<void> {
    await this.#change('mark-read', ids);
  }

  async markUnread(ids: string | readonly string[]): Promise<void> {
    await this.#change('mark-unread', ids);
  }

  /** Marks these seen; without ids, the listed ones that are not yet (what the user has in front of them). */
  async markSeen(ids?: string | readonly string[]): Promise<void> {
    const unseen = ids ?? this.#snapshot.notifications.filter((item) => item.seen_at === null).map((item) => item.id);
    if (unseen.length === 0) return;
    await this.#change('mark-seen', unseen);
  }

  async archive(ids: string | readonly string[]): Promise<void> {
    await this.#change('archive', ids);
  }

  async unarchive(ids: string | readonly string[]): Promise<void> {
    await this.#change('unarchive', ids);
  }

  async delete(ids: string | readonly string[]): Promise<void> {
    await this.#change('delete', ids);
  }

  async markAllRead(): Promise<void> {
    await this.#act(() => this.#client.markAllRead());
  }

  /** Records the user's action `actionId` on notification `id` (Herald keeps the first). */
  async act(id: string, actionId: string): Promise<void> {
    await this.#act(() => this.#client.act(id, actionId));
  }

  dispose(): void {
    for (const dispose of this.#disposers.splice(0)) dispose();
    this.#expiry.cancel();
    this.#listeners.clear();
  }

  async #loadList(): Promise<void> {
    const load: Load = { events: [] };
    this.#listLoad = load;
    const view = this.#snapshot.view;
    this.#update({ loading: true });
    try {
      const page = await this.#client.list({ ...listQuery(view), limit: this.#pageSize });
      if (this.#listLoad !== load) return;
      this.#listLoad = undefined;
      const now = this.#clock.now();
      let list = filterChanged(page.items, (item) => inView(view, item, now));
      let stale = false;
      for (const frame of load.events) {
        const change = applyToList(list, frame, view, now);
        list = change.list;
        stale ||= change.stale;
      }
      this.#cursor = page.next_cursor;
      this.#setList(list, { hasMore: page.next_cursor !== null, error: null });
      if (stale) void this.#loadList();
    } catch (error) {
      if (this.#listLoad !== load) return;
      this.#listLoad = undefined;
      this.#update({ loading: this.#loading, error: describe(error) });
    }
  }

  async #loadCounts(): Promise<void> {
    const load: Load = { events: [] };
    this.#countsLoad = load;
    this.#update({ loading: true });
    try {
      const { seq, ...counts } = await this.#client.counts();
      if (this.#countsLoad !== load) return;
      this.#countsLoad = undefined;
      this.#countsSeq = seq;
      this.#setCounts(counts);
      for (const frame of load.events) this.#applyToCounts(frame);
      this.#update({ loading: this.#loading });
    } catch (error) {
      if (this.#countsLoad !== load) return;
      this.#countsLoad = undefined;
      this.#update({ loading: this.#loading, error: describe(error) });
    }
  }

  get #loading(): boolean {
    return this.#listLoad !== undefined || this.#countsLoad !== undefined;
  }

  #onEvent(frame: StreamFrame): void {
    for (const load of this.#moreLoads) load.events.push(frame);
    if (frame.type === 'new_notification' && frame.payload.category != null) this.#categories.add(frame.payload.category);
    if (this.#listLoad !== undefined) this.#listLoad.events.push(frame);
    else {
      const change = applyToList(this.#snapshot.notifications, frame, this.#snapshot.view, this.#clock.now());
      this.#setList(change.list);
      if (change.stale) void this.#loadList();
    }
    this.#applyToCounts(frame);
  }

  #applyToCounts(frame: StreamFrame): void {
    if (this.#countsLoad !== undefined) return void this.#countsLoad.events.push(frame);
    if (this.#countsSeq !== undefined && frame.seq <= this.#countsSeq) return;
    const change = countsAfter(this.#snapshot.counts, frame, this.#clock.now());
    // The fetch starts after this event arrived, so its answer has it.
    if (change === 'reload') return void this.#loadCounts();
    this.#countsSeq = frame.seq;
    if (change !== 'unchanged') this.#setCounts(change);
  }

  #dropExpired(): void {
    const now = this.#clock.now();
    const before = this.#snapshot.notifications;
    const expired = before.filter((item) => isExpired(item, now));
    this.#setList(filterChanged(before, (item) => !isExpired(item, now)));
    // Herald stops counting a notification once it expires; which categories lost one is only known there.
    if (expired.some((item) => item.archived_at === null && (item.status === 'unread' || item.seen_at === null))) void this.#loadCounts();
  }

  #setList(notifications: readonly Notification[], extra: Partial<InboxSnapshot> = {}): void {
    for (const item of notifications) if (item.category !== null) this.#categories.add(item.category);
    this.#update({ notifications, categories: this.#knownCategories(), loading: this.#loading, ...extra });
    this.#expiry.schedule(notifications);
  }

  #setCounts(counts: CountsBody): void {
    for (const category of Object.keys(counts.categories)) this.#categories.add(category);
    this.#update({ counts, unreadCount: counts.unread, unseenCount: counts.unseen, categories: this.#knownCategories() });
  }

  /** The sorted categories, as the same array while none was added. */
  #knownCategories(): readonly string[] {
    const current = this.#snapshot.categories;
    if (current.length === this.#categories.size) return current;
    return [...this.#categories].sort();
  }

  async #change(change: NotificationChange, ids: string | readonly string[]): Promise<void> {
    await this.#act(() => this.#client.change(change, typeof ids === 'string' ? [ids] : ids));
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

  #update(change: Partial<InboxSnapshot>): void {
    const next = { ...this.#snapshot, ...change };
    const keys = Object.keys(change) as (keyof InboxSnapshot)[];
    if (keys.every((key) => next[key] === this.#snapshot[key])) return;
    this.#snapshot = next;
    for (const listener of [...this.#listeners]) listener();
  }
}

function listQuery(view: InboxView): ListOptions {
  return { ...(view.category !== null && { category: view.category }), archived: view.archived ? 'true' : 'false' };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
