import type { Notification } from '@herald/react';
import { NotificationItem } from './notification-item.js';

export interface NotificationListProps {
  /** Newest first, as the inbox keeps them. */
  notifications: readonly Notification[];
  loading: boolean;
  onMarkRead(id: string): void;
}

export function NotificationList({ notifications, loading, onMarkRead }: NotificationListProps) {
  if (notifications.length === 0) {
    return (
      <p className="inbox__empty" data-testid="empty">
        {loading ? 'Loading…' : 'No notifications yet.'}
      </p>
    );
  }
  return (
    <ul className="list" data-testid="notification-list" aria-busy={loading}>
      {notifications.map((notification) => (
        <NotificationItem key={notification.id} notification={notification} onMarkRead={onMarkRead} />
      ))}
    </ul>
  );
}
