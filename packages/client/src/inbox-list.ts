import { fullNotification, type Notification, type StreamFrame } from '@herald/protocol';
import { isExpired } from './notification-expiry.js';

/** Which notifications an Inbox lists: one category or all (`null`), the inbox or the archive. */
export interface InboxView {
  category: string | null;
  archived: boolean;
}

export const DEFAULT_VIEW: InboxView = Object.freeze({ category: null, archived: false });

/** The list after an event, and whether the view may now hold a notification the list does not have. */
export interface ListChange {
  list: readonly Notification[];
  /**
   * True when a notification this list does not hold moved into its view (unarchived while the inbox is shown,
   * archived while the archive is): only a reload from Herald can show it.
   */
  stale: boolean;
}

export function inView(view: InboxView, notification: Notification, now: number): boolean {
  return (
    (view.category === null || notification.category === view.category) &&
    (notification.archived_at !== null) === view.archived &&
    !isExpired(notification, now)
  );
}

/**
 * Applies one stream event to a list of `view`. Every change sets fields to the values the event says, adds only
 * what is absent and removes only what is present, so applying an event that the list already reflects changes
 * nothing: that is what lets events that raced a page load be replayed over it.
 */
export function applyToList(list: readonly Notification[], frame: StreamFrame, view: InboxView, now: number): ListChange {
  switch (frame.type) {
    case 'new_notification': {
      const notification = fullNotification(frame.payload);
      const fits = inView(view, notification, now) && !list.some((item) => item.id === notification.id);
      return { list: fits ? [notification, ...list] : list, stale: false };
    }
    case 'notification_read': {
      const ids = new Set(frame.payload.notification_ids);
      return { list: mapChanged(list, (item) => (ids.has(item.id) && item.status === 'unread' ? markedRead(item, now) : item)), stale: false };
    }
    case 'all_read':
      return { list: mapChanged(list, (item) => (item.status === 'unread' ? markedRead(item, now) : item)), stale: false };
    case 'notification_updated':
      return updated(list, frame.payload.notification_ids, frame.payload.changes, view, now);
    case 'notification_deleted': {
      const ids = new Set(frame.payload.notification_ids);
      return { list: filterChanged(list, (item) => !ids.has(item.id)), stale: false };
    }
    case 'task_update':
      return { list, stale: false };
  }
}

function updated(
  list: readonly Notification[],
  ids: readonly string[],
  changes: Extract<StreamFrame, { type: 'notification_updated' }>['payload']['changes'],
  view: InboxView,
  now: number,
): ListChange {
  const wanted = new Set(ids);
  const changed = mapChanged(list, (item) => (wanted.has(item.id) && !reflects(item, changes) ? { ...item, ...changes } : item));
  const next = filterChanged(changed, (item) => !wanted.has(item.id) || inView(view, item, now));
  const held = new Set(list.map((item) => item.id));
  const movedIn = 'archived_at' in changes && (changes.archived_at !== null) === view.archived;
  return { list: next, stale: movedIn && ids.some((id) => !held.has(id)) };
}

/** Whether the item already has every value of `changes` (so that an unchanged list keeps its identity). */
function reflects(item: Notification, changes: object): boolean {
  return Object.entries(changes).every(([field, value]) => JSON.stringify(item[field as keyof Notification]) === JSON.stringify(value));
}

function markedRead(item: Notification, now: number): Notification {
  const at = item.read_at ?? new Date(now).toISOString();
  // Reading marks seen too.
  return { ...item, status: 'read', read_at: at, seen_at: item.seen_at ?? at };
}

/** `list.map(change)`, or `list` itself when no item changed. */
function mapChanged(list: readonly Notification[], change: (item: Notification) => Notification): readonly Notification[] {
  let changed = false;
  const next = list.map((item) => {
    const after = change(item);
    if (after !== item) changed = true;
    return after;
  });
  return changed ? next : list;
}

/** `list.filter(keep)`, or `list` itself when every item is kept. */
export function filterChanged(list: readonly Notification[], keep: (item: Notification) => boolean): readonly Notification[] {
  const next = list.filter(keep);
  return next.length === list.length ? list : next;
}
