import { HeraldClient, Inbox, type HeraldClientOptions, type InboxSnapshot, type InboxView } from '@herald/client';

/** What useNotifications() renders from: the inbox snapshot plus whether Herald refused the token. */
export interface NotificationsSnapshot extends InboxSnapshot {
  /**
   * Herald refused the token (close code 4001) and the client stopped instead of retrying: the page should ask
   * for a new token. Cleared by the next successful connection.
   */
  unauthorized: boolean;
}

/** The snapshot while there is no token (or no URL): nothing loaded, nothing connecting. */
export const IDLE_SNAPSHOT: NotificationsSnapshot = Object.freeze({
  notifications: Object.freeze([]),
  unreadCount: 0,
  unseenCount: 0,
  counts: Object.freeze({ unread: 0, unseen: 0, categories: Object.freeze({}) }),
  categories: Object.freeze([]),
  view: Object.freeze({ category: null, archived: false }),
  state: 'closed',
  loading: false,
  hasMore: false,
  error: null,
  unauthorized: false,
});

/**
 * One HeraldClient and the Inbox over it, as one external store. The Inbox does not know about 4001, so the flag
 * is merged in here; the merged object is cached so that getSnapshot returns the same value until something
 * changed, which useSyncExternalStore requires.
 */
export class NotificationSession {
  readonly client: HeraldClient;
  readonly inbox: Inbox;
  readonly #listeners = new Set<() => void>();
  readonly #detach: (() => void)[];
  #unauthorized = false;
  #snapshot: NotificationsSnapshot;

  constructor(options: HeraldClientOptions, pageSize: number | undefined, view: InboxView) {
    this.client = new HeraldClient(options);
    this.inbox = new Inbox(this.client, { pageSize, view });
    this.#snapshot = { ...this.inbox.getSnapshot(), unauthorized: false };
    this.#detach = [
      this.inbox.subscribe(() => this.#changed()),
      this.client.on('unauthorized', () => this.#setUnauthorized(true)),
      this.client.on('connected', () => this.#setUnauthorized(false)),
    ];
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  };

  getSnapshot = (): NotificationsSnapshot => this.#snapshot;

  start(): void {
    this.client.connect();
  }

  /** Stops the client for good and lets go of every listener; a disposed session is never reused. */
  dispose(): void {
    for (const detach of this.#detach.splice(0)) detach();
    this.inbox.dispose();
    this.client.close();
    this.#listeners.clear();
  }

  #setUnauthorized(value: boolean): void {
    if (this.#unauthorized === value) return;
    this.#unauthorized = value;
    this.#changed();
  }

  #changed(): void {
    const inbox = this.inbox.getSnapshot();
    const { unauthorized, ...previous } = this.#snapshot;
    // The Inbox hands out a new object only when it changed, so comparing fields of the old merge is enough.
    const same = unauthorized === this.#unauthorized && (Object.keys(inbox) as (keyof InboxSnapshot)[]).every((key) => inbox[key] === previous[key]);
    if (same) return;
    this.#snapshot = { ...inbox, unauthorized: this.#unauthorized };
    for (const listener of [...this.#listeners]) listener();
  }
}
