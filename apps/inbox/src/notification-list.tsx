import type { Notification } from '@herald/react';
import { NotificationItem, type ItemHandlers } from './notification-item.js';

export interface NotificationListProps extends ItemHandlers {
  /** Newest first, as the inbox keeps them. */
  notifications: readonly Notification[];
  loading: boolean;
  canAct: boolean;
  /** What an empty list says once loaded. */
  emptyText: string;
}

export function NotificationList({ notifications, loading, emptyText, ...itemProps }: NotificationListProps) {
  if (notifications.length === 0) {
    return (
      <p className="inbox__empty" data-testid="empty">
        {loading ? 'Loading…' : emptyText}
      </p>
    );
  }
  return (
    <ul className="list" data-testid="notification-list" aria-busy={loading}>
      {notifications.map((notification) => (
        <NotificationItem key={notification.id} notification={notification} {...itemProps} />
      ))}
    </ul>
  );
}
