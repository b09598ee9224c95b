export { HeraldClient } from './herald-client.js';
export type {
  ConnectedInfo,
  ConnectionState,
  HeraldClientEvents,
  HeraldClientOptions,
  TokenSource,
  WebSocketConstructor,
  WebSocketLike,
} from './herald-client.js';
export { Inbox } from './inbox.js';
export type { InboxOptions, InboxSnapshot } from './inbox.js';
export { HeraldApiError } from './inbox-api.js';
export type { ListOptions, NotificationPage, UnreadCount } from './inbox-api.js';
export { backoffDelay, DEFAULT_RECONNECT } from './backoff.js';
export type { ReconnectOptions } from './backoff.js';
export type { Clock } from './clock.js';
export type { Disposer } from './emitter.js';
export type { BroadcastFrame, ConnectedFrame, Notification, StreamFrame, TaskUpdatePayload } from '@herald/protocol';
