import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { HeraldClient, HeraldClientOptions, TokenSource } from '@herald/client';
import { IDLE_SNAPSHOT, NotificationSession, type NotificationsSnapshot } from './notification-session.js';

export interface UseNotificationsOptions {
  /** Herald's base URL, e.g. `https://herald.example.com` or, on a page Herald serves, `location.origin`. */
  url: string;
  /**
   * The user's token, or a function that returns a fresh one (called on every reconnect and after a 401).
   * `null` means signed out: nothing connects and the hook returns an empty, closed inbox.
   *
   * A change of `token` (or `url`, or `pageSize`) closes the old connection and opens a new one, so a function
   * must keep its identity across renders: wrap it in `useCallback` (or define it outside the component).
   */
  token: TokenSource | null;
  /** Notifications per page, for the first page and for each `loadMore()`; Herald allows 1..100 (default 20). */
  pageSize?: number;
  /**
   * Further HeraldClient options (reconnect bounds, timeouts, a WebSocket constructor, ...). Read when a client is
   * created; changing them alone does not reconnect.
   */
  clientOptions?: Omit<HeraldClientOptions, 'url' | 'token'>;
}

export interface UseNotificationsResult extends NotificationsSnapshot {
  /**
   * Marks one notification read. Every tab of the user (this one included) hears of it from Herald and updates
   * its list and count; a failure shows in `error` and the promise still resolves.
   */
  markRead(id: string): Promise<void>;
  /** Marks everything read, on every tab of the user; a failure shows in `error`. */
  markAllRead(): Promise<void>;
  /** Appends the next older page when `hasMore`; a failure shows in `error`. */
  loadMore(): Promise<void>;
  /** The connected client, for its other events (`task_update`, `broadcast`, ...); null while signed out. */
  client: HeraldClient | null;
}

interface ActiveSession {
  url: string;
  token: TokenSource;
  pageSize: number | undefined;
  session: NotificationSession;
}

const noop = () => undefined;
const resolved = () => Promise.resolve();

/**
 * A user's Herald inbox, live: the newest notifications, the unread count and the connection state, with the
 * actions that change them. Built on useSyncExternalStore over one HeraldClient and Inbox per mounted component
 * (no global state), which it connects on mount and closes on unmount and whenever `url`, `token` or `pageSize`
 * change.
 *
 * ```tsx
 * const getToken = useCallback(() => fetch('/api/herald-token').then((r) => r.text()), []);
 * const { notifications, unreadCount, state, markRead } = useNotifications({ url: 'https://herald.example.com', token: getToken });
 * ```
 */
export function useNotifications(options: UseNotificationsOptions): UseNotificationsResult {
  const { url, token, pageSize } = options;
  const clientOptions = useRef(options.clientOptions);
  const [active, setActive] = useState<ActiveSession | null>(null);

  // Declared before the session effect, so a new session is made with this render's options.
  useEffect(() => {
    clientOptions.current = options.clientOptions;
  });

  useEffect(() => {
    if (token === null) return;
    const session = new NotificationSession({ ...clientOptions.current, url, token }, pageSize);
    setActive({ url, token, pageSize, session });
    session.start();
    return () => {
      session.dispose();
      setActive((current) => (current?.session === session ? null : current));
    };
  }, [url, token, pageSize]);

  // Between a change of url/token and the effect that follows it, the old session is already on its way out:
  // render the idle inbox for that moment rather than the previous user's.
  const session =
    active !== null && token !== null && active.url === url && active.token === token && active.pageSize === pageSize ? active.session : null;

  const subscribe = useCallback((listener: () => void) => (session === null ? noop : session.subscribe(listener)), [session]);
  const getSnapshot = useCallback(() => (session === null ? IDLE_SNAPSHOT : session.getSnapshot()), [session]);
  const snapshot = useSyncExternalStore(subscribe, getSnapshot, getSnapshot);

  // The Inbox records a failed action in its snapshot (`error`) and rethrows; the rethrow is dropped here so
  // that `onClick={() => markRead(id)}` never leaves an unhandled rejection.
  const markRead = useCallback((id: string) => (session === null ? resolved() : session.inbox.markRead(id).catch(noop)), [session]);
  const markAllRead = useCallback(() => (session === null ? resolved() : session.inbox.markAllRead().catch(noop)), [session]);
  const loadMore = useCallback(() => (session === null ? resolved() : session.inbox.loadMore()), [session]);

  return { ...snapshot, markRead, markAllRead, loadMore, client: session?.client ?? null };
}
