import type { BroadcastFrame, ConnectedFrame, ErrorFrame, Notification, StreamFrame } from '@herald/protocol';

/** `connecting` before the first open, `reconnecting` after a drop, `closed` when stopped or given up. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

type StreamPayload<T extends StreamFrame['type']> = Extract<StreamFrame, { type: T }>['payload'];

/** What `connected` tells besides the server's frame. */
export interface ConnectedInfo {
  /** True when this connection continues the stream from where the last one stopped. */
  resumed: boolean;
}

export interface HeraldClientEvents {
  [event: string]: unknown[];
  /** The notification with every field of the record (those the frame left out are null, or `[]` for actions). */
  new_notification: [payload: Notification, seq: number];
  task_update: [payload: StreamPayload<'task_update'>, seq: number];
  notification_read: [payload: StreamPayload<'notification_read'>, seq: number];
  all_read: [payload: StreamPayload<'all_read'>, seq: number];
  notification_updated: [payload: StreamPayload<'notification_updated'>, seq: number];
  notification_deleted: [payload: StreamPayload<'notification_deleted'>, seq: number];
  /** Every stream event, once each and in seq order, across reconnects (a new_notification's record complete). */
  event: [frame: StreamFrame];
  /**
   * Herald no longer keeps the events after the seq this client resumed from, so none are replayed: whatever the
   * application built from earlier events is to be loaded again from the REST API. The stream goes on after `seq`.
   */
  reset: [seq: number];
  /** A broadcast: not stored, no seq, only for clients connected when it was sent. */
  broadcast: [frame: BroadcastFrame];
  connected: [payload: ConnectedFrame['payload'], info: ConnectedInfo];
  state: [state: ConnectionState];
  /** An `error` frame from Herald, or a token provider that threw. */
  error: [error: ErrorFrame['payload']];
  /**
   * Herald refused the token (4001) or closed on its expiry (4002); the client waits for `setToken()` unless the
   * provider gave a new one.
   */
  unauthorized: [];
  /**
   * The open connection's token expired; Herald closes it after `graceMs` unless a new token arrives. A token
   * provider is asked by itself; with a plain token, call setToken() with a new one.
   */
  token_expired: [graceMs: number];
}

/** The `error` event's code for a token provider that threw: the client's own, not one Herald sends. */
export const TOKEN_PROVIDER_ERROR = 'token_provider';
