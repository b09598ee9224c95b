import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
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
  /** List only this category's notifications; `null` or absent lists every category. Changing it reloads the list only. */
  category?: string | null;
  /** List the archive instead of the inbox. Changing it reloads the list only. */
  archived?: boolean;
  /**
   * Further HeraldClient options (reconnect bounds, timeouts, a WebSocket constructor, ...). Read when a client is
   * created; changing them alone does not reconnect.
   */
  clientOptions?: Omit<HeraldClientOptions, 'url' | 'token'>;
}

export interface UseNotificationsResult extends NotificationsSnapshot {
  /**
   * Marks notifications read (one id or several). Every tab of the user (this one included) hears of it from
   * Herald and updates its list and counts; a failure shows in `error` and the promise still resolves. The same
   * holds for each of the changes below.
   */
  markRead(ids: string | readonly string[]): Promise<void>;
  markUnread(ids: string | readonly string[]): Promise<void>;
  /** Marks these seen; without ids, the listed ones not seen yet (call it when the list is shown). */
  markSeen(ids?: string | readonly string[]): Promise<void>;
  archive(ids: string | readonly string[]): Promise<void>;
  unarchive(ids: string | readonly string[]): Promise<void>;
  /** Deletes for good. */
  remove(ids: string | readonly string[]): Promise<void>;
  /** Records the user's action `actionId` on notification `id`; Herald keeps the first one. */
  act(id: string, actionId: string): Promise<void>;
  /** Marks everything read, on every tab of the user; a failure shows in `error`. */
  markAllRead(): Promise<void>;
  /** Appends the next older page when `hasMore`; a failure shows in `error`. */
  loadMore(): Promise<void>;
  /**
   * Whether Herald can take a change now: connected and not refused. While false, a change would fail or wait for
   * a token, so a page disables its buttons.
   */
  canAct: boolean;
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
type Change = 'markRead' | 'markUnread' | 'archive' | 'unarchive' | 'delete';

/**
 * A user's Herald inbox, live: the newest notifications of a view (a category or all, the inbox or the archive),
 * the unread and unseen counts in total and per category, and the connection state, with the actions that change
 * them. When Herald can no longer replay what the client missed (a `reset`), the list and counts are loaded
 * again by themselves. Built on useSyncExternalStore over one HeraldClient and Inbox per mounted component
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
  const category = options.category ?? null;
  const archived = options.archived ?? false;
  const clientOptions = useRef(options.clientOptions);
  const view = useRef({ category, archived });
  const [active, setActive] = useState<ActiveSession | null>(null);

  // Declared before the session effect, so a new session is made with this render's options.
  useEffect(() => {
    clientOptions.current = options.clientOptions;
    view.current = { category, archived };
  });

  useEffect(() => {
    if (token === null) return;
    const session = new NotificationSession({ ...clientOptions.current, url, token }, pageSize, view.current);
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

  useEffect(() => {
    void session?.inbox.setView({ category, archived });
  }, [session, category, archived]);

  // The Inbox records a failed action in its snapshot (`error`) and rethrows; the rethrow is dropped here so
  // that `onClick={() => markRead(id)}` never leaves an unhandled rejection.
  const change = useCallback(
    (name: Change) => (ids: string | readonly string[]) => (session === null ? resolved() : session.inbox[name](ids).catch(noop)),
    [session],
  );
  const changes = useMemo(
    () => ({
      markRead: change('markRead'),
      markUnread: change('markUnread'),
      archive: change('archive'),
      unarchive: change('unarchive'),
      remove: change('delete'),
    }),
    [change],
  );
  const markSeen = useCallback((ids?: string | readonly string[]) => (session === null ? resolved() : session.inbox.markSeen(ids).catch(noop)), [session]);
  const act = useCallback((id: string, actionId: string) => (session === null ? resolved() : session.inbox.act(id, actionId).catch(noop)), [session]);
  const markAllRead = useCallback(() => (session === null ? resolved() : session.inbox.markAllRead().catch(noop)), [session]);
  const loadMore = useCallback(() => (session === null ? resolved() : session.inbox.loadMore()), [session]);
  const canAct = snapshot.state === 'open' && !snapshot.unauthorized;

  return { ...snapshot, ...changes, markSeen, act, markAllRead, loadMore, canAct, client: session?.client ?? null };
}
