import { fullNotification, type CountsBody, type StreamFrame } from '@herald/protocol';
import { isExpired } from './notification-expiry.js';

/** No notification at all: what an inbox shows before its first counts arrive. */
export const NO_COUNTS: CountsBody = Object.freeze({ unread: 0, unseen: 0, categories: Object.freeze({}) });

/** What a stream event does to the counts: these new counts, none (unchanged), or unknown until they are fetched again. */
export type CountsChange = CountsBody | 'unchanged' | 'reload';

/**
 * The counts after one stream event that is newer than them. An event of the user's own changes carries the
 * counts right after it (`counts`), which are taken as they are; a new notification is one more unread and unseen,
 * in total and in its category, unless it had already expired (then Herald never counts it). A change event
 * without counts (a Herald that does not send them) cannot be applied exactly, so it asks for a reload.
 */
export function countsAfter(counts: CountsBody, frame: StreamFrame, now: number): CountsChange {
  switch (frame.type) {
    case 'new_notification': {
      const notification = fullNotification(frame.payload);
      if (isExpired(notification, now)) return 'unchanged';
      return withNewNotification(counts, notification.category);
    }
    case 'notification_updated': {
      if (frame.payload.counts !== undefined) return frame.payload.counts;
      // An action taken changes no count; seen, read and archived do.
      const countedFields = Object.keys(frame.payload.changes).filter((field) => field !== 'actioned');
      return countedFields.length === 0 ? 'unchanged' : 'reload';
    }
    case 'notification_read':
    case 'notification_deleted':
    case 'all_read':
      return frame.payload.counts ?? 'reload';
    case 'task_update':
      return 'unchanged';
  }
}

function withNewNotification(counts: CountsBody, category: string | null): CountsBody {
  const categories = { ...counts.categories };
  if (category !== null) {
    const current = categories[category] ?? { unread: 0, unseen: 0 };
    categories[category] = { unread: current.unread + 1, unseen: current.unseen + 1 };
  }
  return { unread: counts.unread + 1, unseen: counts.unseen + 1, categories };
}

/** The unread and unseen counts of one category (zeros for one Herald does not list: it has no unread ones). */
export function categoryCounts(counts: CountsBody, category: string): { unread: number; unseen: number } {
  return counts.categories[category] ?? { unread: 0, unseen: 0 };
}
