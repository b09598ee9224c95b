/**
 * What a user's inbox should hold, worked out from the contract alone, so that a test can compare the gateway's
 * lists, counts and change answers with an independent account of them instead of with the gateway's own.
 */

export type Change = 'seen' | 'read' | 'unread' | 'archive' | 'unarchive' | 'delete';

export type Target = { notification_ids: string[] } | { filter: { category?: string; status?: 'unread' | 'read' } };

export interface ModelNotification {
  id: string;
  category: string | null;
  status: 'unread' | 'read';
  seen: boolean;
  archived: boolean;
  /** Published with an expiry in the past: never listed, counted or changed. */
  expired: boolean;
}

export interface CountsBody {
  unread: number;
  unseen: number;
  categories: Record<string, { unread: number; unseen: number }>;
}

export interface ListFilter {
  status?: 'unread' | 'read' | 'all';
  category?: string;
  archived?: 'false' | 'true' | 'all';
}

/** Whether a change changes a notification (the condition each route's summary states). */
const APPLIES: Record<Change, (n: ModelNotification) => boolean> = {
  seen: (n) => !n.seen,
  read: (n) => n.status === 'unread',
  unread: (n) => n.status === 'read',
  archive: (n) => !n.archived,
  unarchive: (n) => n.archived,
  delete: () => true,
};

export class InboxModel {
  /** In publish (seq) order. */
  private readonly notifications: ModelNotification[] = [];

  add(id: string, fields: { category?: string | null; expired?: boolean } = {}): void {
    this.notifications.push({ id, category: fields.category ?? null, status: 'unread', seen: false, archived: false, expired: fields.expired ?? false });
  }

  get(id: string): ModelNotification | undefined {
    return this.notifications.find((n) => n.id === id);
  }

  /** The live notifications, newest first. */
  private live(): ModelNotification[] {
    return this.notifications.filter((n) => !n.expired).reverse();
  }

  /** The ids a change should report, in its order (as asked for ids, each once; newest first for a filter), and applies it. */
  apply(change: Change, target: Target): string[] {
    const applies = APPLIES[change];
    let changed: ModelNotification[];
    if ('notification_ids' in target) {
      const live = new Map(this.live().map((n) => [n.id, n]));
      changed = [...new Set(target.notification_ids)].map((id) => live.get(id)).filter((n) => n !== undefined && applies(n)) as ModelNotification[];
    } else {
      const { category, status } = target.filter;
      changed = this.live().filter((n) => (category === undefined || n.category === category) && (status === undefined || n.status === status) && applies(n));
    }
    for (const n of changed) {
      if (change === 'seen') n.seen = true;
      if (change === 'read') Object.assign(n, { status: 'read', seen: true });
      if (change === 'unread') n.status = 'unread';
      if (change === 'archive') n.archived = true;
      if (change === 'unarchive') n.archived = false;
      if (change === 'delete') this.notifications.splice(this.notifications.indexOf(n), 1);
    }
    return changed.map((n) => n.id);
  }

  /** Unread and unseen among the live, unarchived ones; a category listed only while it has an unread one. */
  counts(): CountsBody {
    const counts: CountsBody = { unread: 0, unseen: 0, categories: {} };
    for (const n of this.live()) {
      if (n.archived || n.status !== 'unread') continue;
      const unseen = n.seen ? 0 : 1;
      counts.unread += 1;
      counts.unseen += unseen;
      if (n.category === null) continue;
      const category = (counts.categories[n.category] ??= { unread: 0, unseen: 0 });
      category.unread += 1;
      category.unseen += unseen;
    }
    return counts;
  }

  /** The ids GET /notifications should list with these parameters, newest first. */
  list({ status = 'all', category, archived = 'false' }: ListFilter = {}): string[] {
    return this.live()
      .filter((n) => status === 'all' || n.status === status)
      .filter((n) => category === undefined || n.category === category)
      .filter((n) => archived === 'all' || n.archived === (archived === 'true'))
      .map((n) => n.id);
  }
}
