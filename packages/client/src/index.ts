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
export type { InboxView } from './inbox-list.js';
export { categoryCounts } from './inbox-counts.js';
export { HeraldApiError } from './inbox-api.js';
export type {
  ActionAnswer,
  ListOptions,
  NotificationChange,
  NotificationCounts,
  NotificationFilter,
  NotificationPage,
  NotificationSelection,
  UnreadCount,
} from './inbox-api.js';
export { backoffDelay, DEFAULT_RECONNECT } from './backoff.js';
export type { ReconnectOptions } from './backoff.js';
export type { Clock } from './clock.js';
export type { Disposer } from './emitter.js';
export { fullNotification } from '@herald/protocol';
export type {
  BroadcastFrame,
  ConnectedFrame,
  CountsBody,
  NewNotification,
  Notification,
  NotificationAction,
  NotificationActioned,
  NotificationChanges,
  ResetFrame,
  StreamFrame,
  TaskUpdatePayload,
} from '@herald/protocol';
