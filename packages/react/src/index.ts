export { useNotifications } from './use-notifications.js';
export type { UseNotificationsOptions, UseNotificationsResult } from './use-notifications.js';
export type { NotificationsSnapshot } from './notification-session.js';
export type { ConnectionState, Notification, TokenSource } from '@herald/client';
