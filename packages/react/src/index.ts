export { useNotifications } from './use-notifications.js';
export type { UseNotificationsOptions, UseNotificationsResult } from './use-notifications.js';
export type { NotificationsSnapshot } from './notification-session.js';
export { categoryCounts } from '@herald/client';
export type {
  ConnectionState,
  CountsBody,
  InboxView,
  Notification,
  NotificationAction,
  NotificationActioned,
  TokenSource,
} from '@herald/client';
