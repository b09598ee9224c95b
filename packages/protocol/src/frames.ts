/**
 * Herald's wire format: every frame is a JSON text `{"type": ..., "payload": {...}}`.
 * Frames that change what a user sees also carry a top-level `seq`, per user, strictly increasing by 1,
 * so that a client can resume after it and detect a gap.
 */

/** A button of a notification: what the user can do about it, recorded once (POST /notifications/{id}/actions/{action_id}). */
export interface NotificationAction {
  /** 1-64 characters of [A-Za-z0-9_.-], unique within the notification. */
  id: string;
  label: string;
  /** Where the action leads, when it leads somewhere (http or https). */
  url?: string;
}

/** The action a user took on a notification, and when. */
export interface NotificationActioned {
  id: string;
  at: string;
}

/**
 * A notification as the REST API lists it: every field present, null (or `[]` for actions) when unset.
 * `status`/`read_at` mean what they always did; `seen_at` is set when the user first saw it (reading marks seen
 * too), `archived_at` while it is archived; an expired one (`expires_at` past) is never listed or counted.
 */
export interface Notification {
  id: string;
  /** The producer's idempotency key, when it gave one. */
  key: string | null;
  /** 1-64 characters of [a-z0-9_.-]; null for an uncategorised notification. */
  category: string | null;
  status: 'unread' | 'read';
  seen_at: string | null;
  read_at: string | null;
  archived_at: string | null;
  expires_at: string | null;
  created_at: string;
  actions: NotificationAction[];
  actioned: NotificationActioned | null;
  payload: Record<string, unknown>;
}

/**
 * A notification as `new_notification` carries it: the record as it was created. The fields that are always unset
 * at creation (seen_at, archived_at, actioned) are left out, and so are category, expires_at and actions when the
 * producer gave none, so a notification with none of them has exactly the fields it had before they existed.
 * fullNotification() fills the rest in.
 */
export type NewNotification = Pick<Notification, 'id' | 'key' | 'status' | 'created_at' | 'read_at' | 'payload'> &
  Partial<Pick<Notification, 'category' | 'seen_at' | 'archived_at' | 'expires_at' | 'actions' | 'actioned'>>;

/** A record with every field, from one that may leave the unset ones out (a new_notification's). */
export function fullNotification(notification: NewNotification): Notification {
  return {
    id: notification.id,
    key: notification.key,
    category: notification.category ?? null,
    status: notification.status,
    seen_at: notification.seen_at ?? null,
    read_at: notification.read_at,
    archived_at: notification.archived_at ?? null,
    expires_at: notification.expires_at ?? null,
    created_at: notification.created_at,
    actions: notification.actions ?? [],
    actioned: notification.actioned ?? null,
    payload: notification.payload,
  };
}

/** The record fields a notification_updated can change, with their new values. */
export type NotificationChanges = Partial<Pick<Notification, 'status' | 'seen_at' | 'read_at' | 'archived_at' | 'actioned'>>;

/** Unread and unseen counts, in total and per category (uncategorised ones count only in the totals). */
export interface CountsBody {
  unread: number;
  unseen: number;
  /** Only the categories with an unread notification are listed. */
  categories: Record<string, { unread: number; unseen: number }>;
}

/**
 * What the events of a user's own actions carry besides what changed: the user's counts right after the change,
 * read in the same transaction, so that a client sets its counts from the event instead of working out which
 * categories the changed notifications were in. Optional: a client that knows only today's payloads ignores it.
 */
export interface WithCounts {
  counts?: CountsBody;
}

export interface TaskUpdatePayload {
  action: string;
  task: Record<string, unknown>;
  [extra: string]: unknown;
}

/** Events kept in the user's stream: each one has a seq and is replayed on resume. */
export type StreamFrame =
  | { type: 'new_notification'; seq: number; payload: NewNotification }
  | { type: 'task_update'; seq: number; payload: TaskUpdatePayload }
  | { type: 'notification_read'; seq: number; payload: { notification_ids: string[] } & WithCounts }
  | { type: 'all_read'; seq: number; payload: WithCounts }
  | { type: 'notification_updated'; seq: number; payload: { notification_ids: string[]; changes: NotificationChanges } & WithCounts }
  | { type: 'notification_deleted'; seq: number; payload: { notification_ids: string[] } & WithCounts };

export type StreamEventType = StreamFrame['type'];

/** The types a producer may publish (the others come from the user's own actions). */
export const PUBLISHABLE_TYPES = ['new_notification', 'task_update'] as const;
export type PublishableType = (typeof PUBLISHABLE_TYPES)[number];

/**
 * Sent once when a connection opens. `seq` is the user's latest seq at that moment; `since` is where the
 * replay starts (the client's own, or `seq` when it gave none). A client that saw nothing yet resumes from `seq`.
 */
export interface ConnectedFrame {
  type: 'connected';
  payload: { user_id: string; seq: number; since: number; ping_interval_ms: number };
}

/** A broadcast reaches the users connected at that moment; it is not stored and has no seq. */
/**
 * The events a connection asked to resume after are no longer kept (HERALD_RETENTION_DAYS or
 * HERALD_MAX_NOTIFICATIONS_PER_USER removed them), or its `since` is past the user's stream (the user was erased
 * and starts again). No replay follows: the client reloads its list and counts from the REST API and applies the
 * stream events after the counts' seq. `seq` is the user's latest seq now; the next stream frame is seq + 1.
 */
export interface ResetFrame {
  type: 'reset';
  payload: { seq: number };
}

export interface BroadcastFrame {
  type: PublishableType;
  broadcast: true;
  payload: Record<string, unknown>;
}

export interface PingFrame {
  type: 'ping';
  payload: Record<string, never>;
}

export interface PongFrame {
  type: 'pong';
  payload: Record<string, never>;
}

/** An answer to a client frame that Herald could not take; the connection stays open. */
export interface ErrorFrame {
  type: 'error';
  payload: { code: string; message: string };
}

/**
 * The connection's token has expired. The client has `grace_ms` to send a `refresh` frame with a new token for
 * the same user; otherwise Herald closes with 4002 (TokenExpired).
 */
export interface TokenExpiredFrame {
  type: 'token_expired';
  payload: { grace_ms: number };
}

/** A `refresh` was accepted; `expires_at` is the new token's expiry (seconds since the epoch), null without one. */
export interface TokenRefreshedFrame {
  type: 'token_refreshed';
  payload: { expires_at: number | null };
}

export type ServerFrame =
  | StreamFrame
  | ConnectedFrame
  | ResetFrame
  | BroadcastFrame
  | PingFrame
  | PongFrame
  | ErrorFrame
  | TokenExpiredFrame
  | TokenRefreshedFrame;

export type ClientFrame =
  | { type: 'ping'; payload?: Record<string, unknown> }
  | { type: 'pong'; payload?: Record<string, unknown> }
  | { type: 'resume'; payload: { since: number } }
  /** A new token for the same user, extending the connection's life past the old token's expiry. */
  | { type: 'refresh'; payload: { token: string } };

export const CLIENT_FRAME_TYPES = ['ping', 'pong', 'resume', 'refresh'] as const;
