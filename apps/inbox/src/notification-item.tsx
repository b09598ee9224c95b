import type { Notification } from '@herald/react';
import { NotificationActions } from './notification-actions.js';
import { RelativeTimeLabel } from './relative-time-label.js';
import { safeUrl } from './safe-url.js';

/** What a user can do to one notification from its row; each goes to Herald, and the change comes back as an event. */
export interface ItemHandlers {
  onMarkRead(id: string): void;
  onMarkUnread(id: string): void;
  onArchive(id: string): void;
  onUnarchive(id: string): void;
  onDelete(id: string): void;
  onAct(id: string, actionId: string): void;
}

export interface NotificationItemProps extends ItemHandlers {
  notification: Notification;
  /** False while offline or refused: the buttons are disabled, as Herald could not take their change. */
  canAct: boolean;
}

/**
 * One notification; unread ones are marked by weight, colour and a dot, and by words for screen readers. A
 * payload `url` makes the title a link (opening it marks the notification read); actions are buttons.
 */
export function NotificationItem({ notification, canAct, ...handlers }: NotificationItemProps) {
  const { id, status, created_at: createdAt, payload } = notification;
  const title = text(payload['title']) ?? text(payload['message']) ?? notification.key ?? 'Notification';
  const body = text(payload['body']);
  const url = safeUrl(payload['url']);
  const unread = status === 'unread';
  const archived = notification.archived_at !== null;
  return (
    <li
      className={`item item--${status}`}
      data-testid="notification"
      data-id={id}
      data-status={status}
      data-seen={notification.seen_at !== null}
      data-category={notification.category ?? ''}
    >
      <span className="item__dot" aria-hidden="true" />
      <div className="item__text">
        <p className="item__title" data-testid="notification-title">
          {unread && <span className="visually-hidden">Unread: </span>}
          {url === undefined ? (
            title
          ) : (
            <a
              href={url}
              target="_blank"
              rel="noopener noreferrer"
              data-testid="notification-link"
              onClick={() => {
                if (unread && canAct) handlers.onMarkRead(id);
              }}
            >
              {title}
            </a>
          )}
        </p>
        {body !== undefined && <p className="item__body">{body}</p>}
        <p className="item__meta">
          {notification.category !== null && <span className="item__category">{notification.category}</span>}
          <RelativeTimeLabel dateTime={createdAt} />
        </p>
        <NotificationActions notification={notification} canAct={canAct} onAct={handlers.onAct} />
      </div>
      <div className="item__controls">
        {unread ? (
          <button
            type="button"
            className="secondary"
            onClick={() => handlers.onMarkRead(id)}
            disabled={!canAct}
            aria-label={`Mark “${title}” read`}
            data-testid="mark-read"
          >
            Mark read
          </button>
        ) : (
          <button
            type="button"
            className="link"
            onClick={() => handlers.onMarkUnread(id)}
            disabled={!canAct}
            aria-label={`Mark “${title}” unread`}
            data-testid="mark-unread"
          >
            Read · mark unread
          </button>
        )}
        {archived ? (
          <>
            <button type="button" className="link" onClick={() => handlers.onUnarchive(id)} disabled={!canAct} data-testid="unarchive">
              Unarchive
            </button>
            <button type="button" className="link danger" onClick={() => handlers.onDelete(id)} disabled={!canAct} data-testid="delete">
              Delete
            </button>
          </>
        ) : (
          <button type="button" className="link" onClick={() => handlers.onArchive(id)} disabled={!canAct} aria-label={`Archive “${title}”`} data-testid="archive">
            Archive
          </button>
        )}
      </div>
    </li>
  );
}

/** Producers choose the payload's shape; only string fields are shown. */
function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
