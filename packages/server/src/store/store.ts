import type { NewNotification, NotificationAction, StreamEventType } from '@herald/protocol';

/** One event to append to a user's stream, already validated at the edge. */
export interface AppendInput {
  userId: string;
  type: 'new_notification' | 'task_update';
  payload: Record<string, unknown>;
  /** Idempotency key, unique per user: a second append with the same key stores nothing. */
  key: string | null;
  /** new_notification only (the others ignore them): the notification's category, expiry (ISO) and actions. */
  category?: string | null;
  expiresAt?: string | null;
  actions?: readonly NotificationAction[] | null;
}

/** An event of a user's stream, as stored: what a connection sends and what resume replays. */
export interface StoredEvent {
  userId: string;
  seq: number;
  type: StreamEventType;
  /** For new_notification the whole Notification; for the others the frame's payload. */
  payload: Record<string, unknown>;
  /** The payload as JSON text, when the store has it at hand: the frame is then built around it, not serialised again. */
  payloadJson?: string;
  createdAt: string;
}

export type NotificationStatus = 'unread' | 'read' | 'all';

/**
 * A notification as the Store returns it: the record with its unset fields left out (see toInboxItem); the REST
 * API fills them in (fullNotification).
 */
export type InboxItem = NewNotification;

/** Which archived notifications a list holds: none (the default), only them, or both. */
export type ArchivedFilter = 'false' | 'true' | 'all';

/** The notifications a change applies to: the caller's own among `ids`, or all of the caller's matching `filter`. */
export type NotificationTarget =
  | { ids: readonly string[] }
  | { filter: { category?: string; status?: 'unread' | 'read' } };

/** What a user can do to their notifications, besides marking all read and taking an action. */
export type InboxChange = 'seen' | 'read' | 'unread' | 'archive' | 'unarchive' | 'delete';

export interface ChangeResult {
  /** The ids that changed, in the order asked (ids) or newest first (filter). */
  ids: string[];
  /** The stream events that tell every tab: none when nothing changed, one per IDS_PER_EVENT ids. */
  events: StoredEvent[];
}

export type ActionResult =
  | { outcome: 'recorded'; event: StoredEvent; actioned: { id: string; at: string } }
  /** The same action was recorded before: nothing changes, nothing is sent. */
  | { outcome: 'repeated'; actioned: { id: string; at: string } }
  | { outcome: 'no_notification' }
  | { outcome: 'no_action' }
  /** Another action was taken on the notification already; only one is recorded. */
  | { outcome: 'other_action_taken'; actioned: { id: string; at: string } };

export interface CategoryCounts {
  unread: number;
  unseen: number;
}

export interface InboxCounts extends CategoryCounts {
  categories: Record<string, CategoryCounts>;
  headSeq: number;
}

/** Where a user's stream stands: its last seq, and the highest seq removed from it (0 while none was). */
export interface StreamBounds {
  headSeq: number;
  floorSeq: number;
}

/** How long a user's inbox and stream may grow: HERALD_MAX_NOTIFICATIONS_PER_USER, for both. */
export interface InboxLimits {
  maxNotificationsPerUser: number;
  maxEventsPerUser: number;
}

export interface SweepOptions {
  olderThan: string;
  expiredBefore: string;
  batch: number;
  /** Also trim users past these limits (HERALD_MAX_NOTIFICATIONS_PER_USER) who have not appended since. */
  limits?: InboxLimits;
}

/** What one sweep removed. */
export interface SweepResult {
  notifications: number;
  events: number;
}

/**
 * Payload bytes per eventsAfter page when the caller names none: a little under half of HERALD_MAX_BUFFERED_BYTES's
 * default, so a page in memory and what a replay lets its socket hold (see StreamSync) add up to about that bound.
 */
export const EVENTS_PAGE_BYTES = 512 * 1024;

/**
 * Payload bytes per listNotifications page when the query names none: a response, which a client may be slow to
 * read, holds about this much, however large the page's `limit` and its notifications.
 */
export const LIST_PAGE_BYTES = 1024 * 1024;

export interface ListQuery {
  status: NotificationStatus;
  /** Only this category's; every category when absent. */
  category?: string;
  /** 'false' when absent. */
  archived?: ArchivedFilter;
  limit: number;
  /** Return notifications older than this seq (exclusive); the first page when absent. */
  beforeSeq?: number;
  /** The page's payload budget in bytes (LIST_PAGE_BYTES when absent); see listNotifications. */
  maxBytes?: number;
}

export interface NotificationPage {
  items: InboxItem[];
  /** The seq to pass as beforeSeq for the next page, or null on the last page. */
  nextBeforeSeq: number | null;
}

export interface UnreadCount {
  count: number;
  headSeq: number;
}

/**
 * The inbox and the per-user event streams.
 *
 * Guarantees: every stored event gets its user's next seq (1, 2, 3, ... with no gap) in the same transaction
 * that stores it, so an event that a caller sees returned is durable and readable by eventsAfter. Appends with
 * a key already stored for that user are skipped, atomically with the seq assignment. Writes of one user are
 * serialised by the database (a row lock on PostgreSQL, the single connection on SQLite); the order in which
 * two concurrent callers get their results back is not guaranteed, so delivery orders by seq, not by arrival.
 */
export interface Store {
  /** Creates or upgrades the schema; run once at start-up. */
  migrate(): Promise<void>;
  /** Appends a batch in one transaction. Returns the events actually stored (duplicates left out), in input order. */
  append(inputs: readonly AppendInput[]): Promise<StoredEvent[]>;
  /** Marks the user's own unread notifications among `ids` read; returns the notification_read event, or null when nothing changed. */
  markRead(userId: string, ids: readonly string[]): Promise<StoredEvent | null>;
  /** Marks all of the user's unread notifications read; returns the all_read event, or null when nothing was unread. */
  markAllRead(userId: string): Promise<StoredEvent | null>;
  /**
   * Applies `change` to the user's own notifications that `target` names and that it changes (mark-seen changes
   * the unseen ones only, archive the unarchived ones, ...), expired ones left out, and appends the events that
   * tell every tab, in the same transaction: notification_read for 'read', notification_deleted for 'delete',
   * notification_updated with the changed fields for the others; each with the user's counts after the change.
   */
  changeNotifications(userId: string, change: InboxChange, target: NotificationTarget): Promise<ChangeResult>;
  /** Records that the user took action `actionId` of their notification `notificationId` (once). */
  recordAction(userId: string, notificationId: string, actionId: string): Promise<ActionResult>;
  /** Removes everything stored for the user: notifications, stream and idempotency keys. False when there was nothing. */
  eraseUser(userId: string): Promise<boolean>;
  /**
   * One small batch of removal: notifications and events created before `olderThan`, notifications expired before
   * `expiredBefore`, and (with `limits`) the oldest of users past them. At most `batch` rows of each kind; call again
   * while it removes something.
   */
  sweep(options: SweepOptions): Promise<SweepResult>;
  /**
   * The user's events with seq > since, in seq order, cut by count and by size: at most `limit` of them, ending
   * before the first event at which the payload text of the events before it (UTF-8 bytes of payloadJson) has
   * reached `maxBytes` (EVENTS_PAGE_BYTES when absent). So a page always holds the first such event however large,
   * exceeds `maxBytes` by at most its last event, and a page with fewer than `limit` events and less than
   * `maxBytes` of payload ends the stream (as read by this query). Past the cut no payload larger than
   * `maxBytes / limit` is read, so what a read brings into memory besides its page stays under `maxBytes` too.
   */
  eventsAfter(userId: string, since: number, limit: number, maxBytes?: number): Promise<StoredEvent[]>;
  /** The user's latest seq, 0 when the user has no events. */
  headSeq(userId: string): Promise<number>;
  /** The user's latest seq and the highest seq removed from the stream, in one read. */
  streamBounds(userId: string): Promise<StreamBounds>;
  /**
   * The user's notifications, newest first, cut by count and by size: at most `query.limit`, and no more than
   * `query.maxBytes` of payload text (UTF-8 bytes of the producer's payload as stored), except that a page holds at
   * least one notification when any is left. nextBeforeSeq is set exactly when notifications are left past the
   * page, so following it reads every one once. Past the cut only sizes are read, no payload.
   */
  listNotifications(userId: string, query: ListQuery): Promise<NotificationPage>;
  /**
   * How many of the user's notifications are unread, with the user's head seq read in the same snapshot, so a
   * client can apply exactly the stream events after it to the count.
   */
  unreadCount(userId: string): Promise<UnreadCount>;
  /**
   * The unread and unseen counts, in total and per category, with the head seq, in one statement: archived and
   * expired notifications are not counted, uncategorised ones only in the totals.
   */
  counts(userId: string): Promise<InboxCounts>;
  /** Resolves when the database answers; rejects while it is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
