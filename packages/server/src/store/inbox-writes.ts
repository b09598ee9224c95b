import type { NotificationAction, NotificationChanges, StreamEventType } from '@herald/protocol';
import { sql, type RawBuilder, type Transaction, type Updateable } from 'kysely';
import { chunks } from './chunks.js';
import { eventsRow } from './event-rows.js';
import { notExpired, now, readCounts } from './reads.js';
import { jsonColumn } from './record-rows.js';
import type { Database, NotificationsTable } from './schema.js';
import type { ActionResult, ChangeResult, InboxChange, InboxCounts, NotificationTarget, StoredEvent } from './store.js';
import { lowerNotificationCount } from './user-rows.js';

/**
 * A user's own writes to their inbox, each in the caller's transaction: the change and the stream events that
 * tell every tab, together, so a tab that sees an event finds the change made, and a change is never made unseen.
 *
 * Every write takes the user's user_streams row first (lockStream, or nextSeq's upsert), as appends do: on
 * PostgreSQL that row lock serialises the user's writers until commit, so seqs come out 1, 2, 3 with no gap, and
 * the same lock order everywhere (the stream row, then notification rows) keeps them from deadlocking.
 */

type Trx = Transaction<Database>;

/** Ids per statement's IN (...): far below SQLite's and PostgreSQL's bound-parameter limits. */
const IN_LIST_CHUNK = 500;

/**
 * Ids per event of one change: a filter may change a whole inbox (up to HERALD_MAX_NOTIFICATIONS_PER_USER), and a
 * frame of 1,000 ids (about 40 KB) stays far below what a tab may be sent at once (HERALD_MAX_BUFFERED_BYTES).
 */
export const IDS_PER_EVENT = 1_000;

/** The condition under which a change changes a notification, and what it sets. */
function describe(change: Exclude<InboxChange, 'delete'>, at: string) {
  switch (change) {
    case 'seen':
      return { where: sql<boolean>`seen_at is null`, set: { seen_at: at }, changes: { seen_at: at } };
    case 'read':
      // Reading marks seen too; notification_read carries no fields, a client sets seen_at when it had none.
      return { where: sql<boolean>`status = 'unread'`, set: { status: 'read', read_at: at, seen_at: sql<string>`coalesce(seen_at, ${at})` }, changes: {} };
    case 'unread':
      return { where: sql<boolean>`status = 'read'`, set: { status: 'unread', read_at: null }, changes: { status: 'unread', read_at: null } };
    case 'archive':
      return { where: sql<boolean>`archived_at is null`, set: { archived_at: at }, changes: { archived_at: at } };
    case 'unarchive':
      return { where: sql<boolean>`archived_at is not null`, set: { archived_at: null }, changes: { archived_at: null } };
  }
}

export async function changeInTransaction(trx: Trx, userId: string, change: InboxChange, target: NotificationTarget): Promise<ChangeResult> {
  if ('ids' in target && target.ids.length === 0) return { ids: [], events: [] };
  await lockStream(trx, userId);
  const at = now();
  const spec = change === 'delete' ? null : describe(change, at);
  const ids = await targetIds(trx, userId, target, spec?.where ?? sql<boolean>`1 = 1`, at);
  if (ids.length === 0) return { ids: [], events: [] };
  for (const chunk of chunks(ids, IN_LIST_CHUNK)) {
    if (spec === null) {
      await trx.deleteFrom('notifications').where('user_id', '=', userId).where('id', 'in', chunk).execute();
    } else {
      await trx
        .updateTable('notifications')
        .set(spec.set as Updateable<NotificationsTable>)
        .where('user_id', '=', userId)
        .where('id', 'in', chunk)
        .execute();
    }
  }
  if (spec === null) await lowerNotificationCount(trx, userId, ids.length);
  const counts = countsBody(await readCounts(trx, userId));
  const type: StreamEventType = change === 'read' ? 'notification_read' : change === 'delete' ? 'notification_deleted' : 'notification_updated';
  const events: StoredEvent[] = [];
  for (const chunk of chunks(ids, IDS_PER_EVENT)) {
    const payload =
      type === 'notification_updated'
        ? { notification_ids: chunk, changes: spec!.changes as NotificationChanges, counts }
        : { notification_ids: chunk, counts };
    events.push(await appendUserEvent(trx, userId, type, payload));
  }
  return { ids, events };
}

/**
 * The ids of the user's notifications that `target` names and that `applies` holds for, expired ones left out:
 * in the order asked for ids (each once), newest first for a filter. Unknown ids, other users' and those the
 * change would not change match nothing, so the caller learns only which of its own changed.
 */
async function targetIds(trx: Trx, userId: string, target: NotificationTarget, applies: RawBuilder<boolean>, at: string): Promise<string[]> {
  const mine = trx.selectFrom('notifications').select('id').where('user_id', '=', userId).where(notExpired(at)).where(applies);
  if ('ids' in target) {
    const wanted = [...new Set(target.ids)];
    const found = new Set<string>();
    for (const chunk of chunks(wanted, IN_LIST_CHUNK)) {
      for (const row of await mine.where('id', 'in', chunk).execute()) found.add(row.id);
    }
    return wanted.filter((id) => found.has(id));
  }
  const { category, status } = target.filter;
  const rows = await mine
    .$if(category !== undefined, (qb) => qb.where('category', '=', category!))
    .$if(status !== undefined, (qb) => qb.where('status', '=', status!))
    .orderBy('seq', 'desc')
    .execute();
  return rows.map((row) => row.id);
}

export async function markAllReadInTransaction(trx: Trx, userId: string): Promise<StoredEvent | null> {
  await lockStream(trx, userId);
  const at = now();
  const result = await trx
    .updateTable('notifications')
    .set({ status: 'read', read_at: at, seen_at: sql<string>`coalesce(seen_at, ${at})` })
    .where('user_id', '=', userId)
    .where('status', '=', 'unread')
    // An expired notification is never changed, as by every other write.
    .where(notExpired(at))
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) return null;
  return appendUserEvent(trx, userId, 'all_read', { counts: countsBody(await readCounts(trx, userId)) });
}

export async function recordActionInTransaction(trx: Trx, userId: string, notificationId: string, actionId: string): Promise<ActionResult> {
  await lockStream(trx, userId);
  const at = now();
  const row = await trx
    .selectFrom('notifications')
    .select(['actions', 'actioned_id', 'actioned_at'])
    .where('user_id', '=', userId)
    .where('id', '=', notificationId)
    .where(notExpired(at))
    .executeTakeFirst();
  if (row === undefined) return { outcome: 'no_notification' };
  const actions = row.actions === null ? [] : jsonColumn<NotificationAction[]>(row.actions).value;
  if (!actions.some((action) => action.id === actionId)) return { outcome: 'no_action' };
  if (row.actioned_id !== null) {
    const actioned = { id: row.actioned_id, at: row.actioned_at! };
    return row.actioned_id === actionId ? { outcome: 'repeated', actioned } : { outcome: 'other_action_taken', actioned };
  }
  await trx.updateTable('notifications').set({ actioned_id: actionId, actioned_at: at }).where('id', '=', notificationId).execute();
  const actioned = { id: actionId, at };
  const counts = countsBody(await readCounts(trx, userId));
  const event = await appendUserEvent(trx, userId, 'notification_updated', { notification_ids: [notificationId], changes: { actioned }, counts });
  return { outcome: 'recorded', event, actioned };
}

/** Removes every row of the user, the stream row last (it is what a concurrent writer locks first). */
export async function eraseInTransaction(trx: Trx, userId: string): Promise<boolean> {
  await lockStream(trx, userId);
  const notifications = await trx.deleteFrom('notifications').where('user_id', '=', userId).executeTakeFirst();
  const events = await trx.deleteFrom('events').where('user_id', '=', userId).executeTakeFirst();
  const stream = await trx.deleteFrom('user_streams').where('user_id', '=', userId).executeTakeFirst();
  return notifications.numDeletedRows + events.numDeletedRows + stream.numDeletedRows > 0n;
}

function countsBody({ unread, unseen, categories }: InboxCounts) {
  return { unread, unseen, categories };
}

/** Appends an event of the user's own making (no key, so never deduplicated). */
async function appendUserEvent(trx: Trx, userId: string, type: StreamEventType, payload: Record<string, unknown>): Promise<StoredEvent> {
  const seq = await nextSeq(trx, userId);
  const createdAt = now();
  const event = { userId, seq, type, payload, payloadJson: JSON.stringify(payload), createdAt };
  await trx.insertInto('events').values(eventsRow(event, null)).execute();
  return event;
}

/** Takes the user's next seq; on PostgreSQL the row stays locked until the transaction ends. */
async function nextSeq(trx: Trx, userId: string): Promise<number> {
  const row = await trx
    .insertInto('user_streams')
    .values({ user_id: userId, last_seq: 1 })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ last_seq: sql<number>`user_streams.last_seq + 1` }))
    .returning('last_seq')
    .executeTakeFirstOrThrow();
  return row.last_seq;
}

/**
 * Locks the user's stream row without changing it (SELECT ... FOR UPDATE does not exist in SQLite), for writes
 * that may end up appending nothing. A user without the row has no notifications, so there is nothing to lock.
 */
export async function lockStream(trx: Trx, userId: string): Promise<void> {
  await trx
    .updateTable('user_streams')
    .set((eb) => ({ last_seq: eb.ref('last_seq') }))
    .where('user_id', '=', userId)
    .execute();
}
