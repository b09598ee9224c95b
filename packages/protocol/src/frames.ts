/**
 * Herald's wire format: every frame is a JSON text `{"type": ..., "payload": {...}}`.
 * Frames that change what a user sees also carry a top-level `seq`, per user, strictly increasing by 1,
 * so that a client can resume after it and detect a gap.
 */

/** A notification as stored in a user's inbox and as pushed in `new_notification`. */
export interface Notification {
  id: string;
  /** The producer's idempotency key, when it gave one. */
  key: string | null;
  status: 'unread' | 'read';
  created_at: string;
  read_at: string | null;
  payload: Record<string, unknown>;
}

export interface TaskUpdatePayload {
  action: string;
  task: Record<string, unknown>;
  [extra: string]: unknown;
}

/** Events kept in the user's stream: each one has a seq and is replayed on resume. */
export type StreamFrame =
  | { type: 'new_notification'; seq: number; payload: Notification }
  | { type: 'task_update'; seq: number; payload: TaskUpdatePayload }
  | { type: 'notification_read'; seq: number; payload: { notification_ids: string[] } }
  | { type: 'all_read'; seq: number; payload: Record<string, never> };

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
