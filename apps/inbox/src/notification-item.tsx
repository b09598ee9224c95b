import type { Notification } from '@herald/react';

export interface NotificationItemProps {
  notification: Notification;
  onMarkRead(id: string): void;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** One notification; unread ones are marked by weight, colour and a dot, and by words for screen readers. */
export function NotificationItem({ notification, onMarkRead }: NotificationItemProps) {
  const { id, status, created_at: createdAt, payload } = notification;
  const title = text(payload['title']) ?? text(payload['message']) ?? notification.key ?? 'Notification';
  const body = text(payload['body']);
  const unread = status === 'unread';
  return (
    <li className={`item item--${status}`} data-testid="notification" data-id={id} data-status={status}>
      <span className="item__dot" aria-hidden="true" />
      <div className="item__text">
        <p className="item__title" data-testid="notification-title">
          {unread && <span className="visually-hidden">Unread: </span>}
          {title}
        </p>
        {body !== undefined && <p className="item__body">{body}</p>}
        <time className="item__time" dateTime={createdAt}>
          {timeFormat.format(new Date(createdAt))}
        </time>
      </div>
      {unread ? (
        <button type="button" className="secondary" onClick={() => onMarkRead(id)} aria-label={`Mark “${title}” read`} data-testid="mark-read">
          Mark read
        </button>
      ) : (
        <span className="item__read">Read</span>
      )}
    </li>
  );
}

/** Producers choose the payload's shape; only string fields are shown. */
function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
