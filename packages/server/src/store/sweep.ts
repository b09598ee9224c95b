import { SqliteIntrospector, sql, type Kysely, type Transaction } from 'kysely';
import { lockStream } from './inbox-writes.js';
import type { Database } from './schema.js';
import type { InboxLimits, SweepOptions, SweepResult } from './store.js';
import { deleteOldestNotifications, lowerNotificationCount } from './user-rows.js';

type Trx = Transaction<Database>;

/**
 * One batch of removal, in one short transaction per kind: notifications created before `olderThan`, notifications
 * that expired before `expiredBefore`, then stream events created before `olderThan`; at most `batch` rows of each,
 * the oldest first (see `oldest`; expired ones through notifications_expiring). With `limits`, then the oldest of
 * users past them (overLimits).
 *
 * Safe beside appends and beside other nodes sweeping the same database: the candidates are read first without a
 * lock, then the users' stream rows are locked in user id order (the lock every writer of a user takes first, so
 * the order cannot deadlock), and the rows are removed if they are still there; a row another node removed in
 * between is simply not counted twice.
 */
export async function sweepOnce(db: Kysely<Database>, options: SweepOptions): Promise<SweepResult> {
  const { olderThan, expiredBefore, batch } = options;
  const sqlite = db.introspection instanceof SqliteIntrospector;
  const old = await oldest(db, 'notifications', ['id', 'user_id'], olderThan, batch, sqlite);
  let notifications = await db.transaction().execute((trx) => removeNotifications(trx, old));
  const expired = await db
    .selectFrom('notifications')
    .select(['id', 'user_id'])
    .where('expires_at', 'is not', null)
    .where('expires_at', '<', expiredBefore)
    .orderBy('expires_at')
    .limit(batch)
    .execute();
  notifications += await db.transaction().execute((trx) => removeNotifications(trx, expired));
  const stale = await oldest(db, 'events', ['user_id', 'seq'], olderThan, batch, sqlite);
  let events = await db.transaction().execute((trx) => removeEvents(trx, stale, olderThan));
  if (options.limits !== undefined) {
    const over = await overLimits(db, options.limits, batch);
    notifications += await db.transaction().execute((trx) => removeOldest(trx, over.notifications, options.limits!.maxNotificationsPerUser, batch));
    events += await db.transaction().execute((trx) => trimStreams(trx, over.streams, options.limits!.maxEventsPerUser, batch));
  }
  return { notifications, events };
}

/**
 * Users past HERALD_MAX_NOTIFICATIONS_PER_USER who have not appended since (the limit was lowered, or a database
 * from before the limit was upgraded): an append trims its user as it passes the limit, these are trimmed here.
 * Read from user_streams, one row per user, never from the notifications or the events themselves.
 */
async function overLimits(db: Kysely<Database>, limits: InboxLimits, batch: number) {
  const notifications = await db
    .selectFrom('user_streams')
    .select('user_id')
    .where('notification_count', '>', limits.maxNotificationsPerUser)
    .limit(batch)
    .execute();
  const streams = await db
    .selectFrom('user_streams')
    .select('user_id')
    .where(sql<boolean>`last_seq - floor_seq > ${limits.maxEventsPerUser}`)
    .limit(batch)
    .execute();
  return { notifications: notifications.map((row) => row.user_id), streams: streams.map((row) => row.user_id) };
}

/**
 * Raises the floor of each user whose stream is longer than `max`, at most `batch` seqs at a time, from the user's
 * row as it is under the lock (the read that named the user took no lock).
 */
async function trimStreams(trx: Trx, userIds: readonly string[], max: number, batch: number): Promise<number> {
  if (userIds.length === 0) return 0;
  await lockUsers(trx, userIds);
  let removed = 0;
  for (const userId of userIds) {
    const stream = await trx.selectFrom('user_streams').select(['last_seq', 'floor_seq']).where('user_id', '=', userId).executeTakeFirst();
    if (stream === undefined || stream.last_seq - stream.floor_seq <= max) continue;
    const floor = Math.min(stream.last_seq - max, stream.floor_seq + batch);
    const result = await trx.deleteFrom('events').where('user_id', '=', userId).where('seq', '<=', floor).executeTakeFirst();
    removed += Number(result.numDeletedRows);
    await trx.updateTable('user_streams').set({ floor_seq: floor }).where('user_id', '=', userId).execute();
  }
  return removed;
}

/** Removes the oldest notifications of each user past `max`, at most `batch` of each, under the users' locks. */
async function removeOldest(trx: Trx, userIds: readonly string[], max: number, batch: number): Promise<number> {
  if (userIds.length === 0) return 0;
  await lockUsers(trx, userIds);
  let removed = 0;
  for (const userId of userIds) {
    const stream = await trx.selectFrom('user_streams').select('notification_count').where('user_id', '=', userId).executeTakeFirst();
    const excess = Math.min((stream?.notification_count ?? 0) - max, batch);
    if (excess <= 0) continue;
    const count = await deleteOldestNotifications(trx, userId, excess);
    removed += count;
    await lowerNotificationCount(trx, userId, count);
  }
  return removed;
}

/**
 * Up to `batch` of the table's rows created before `olderThan`, oldest first, without a table scan. On PostgreSQL
 * through the created_at index (events_by_age, notifications_by_age). On SQLite through the table's own rowid
 * order, which is the order rows were written in and so their age (one writer, each append timestamped when it
 * commits): the oldest are among the first rows, and those of them old enough are the candidates. Two indexes
 * fewer to write on every append there (BENCHMARKS.md, "Schema v2").
 */
/**
 * How many of the first rows by rowid SQLite's candidates are picked from, oldest by created_at first: a window
 * wider than the batch, so that rows written a little out of time order (a clock stepped back) are still found.
 */
const ROWID_WINDOW = 4;

async function oldest<T extends 'notifications' | 'events', C extends ('id' | 'user_id' | 'seq') & keyof Database[T]>(
  db: Kysely<Database>,
  table: T,
  columns: readonly C[],
  olderThan: string,
  batch: number,
  sqlite: boolean,
) {
  const query = db.selectFrom(table as 'notifications').select(columns as unknown as ('id' | 'user_id')[]).where('created_at', '<', olderThan);
  const rows = sqlite
    ? await query
        .where(sql<boolean>`rowid in (select rowid from ${sql.table(table)} order by rowid limit ${batch * ROWID_WINDOW})`)
        .orderBy('created_at')
        .limit(batch)
        .execute()
    : await query.orderBy('created_at').limit(batch).execute();
  return rows as unknown as { [K in C]: K extends 'seq' ? number : string }[];
}

async function lockUsers(trx: Trx, userIds: Iterable<string>): Promise<void> {
  for (const userId of [...new Set(userIds)].sort()) await lockStream(trx, userId);
}

async function removeNotifications(trx: Trx, rows: readonly { id: string; user_id: string }[]): Promise<number> {
  if (rows.length === 0) return 0;
  await lockUsers(trx, rows.map((row) => row.user_id));
  const removed = await trx
    .deleteFrom('notifications')
    .where('id', 'in', rows.map((row) => row.id))
    .returning('user_id')
    .execute();
  const perUser = new Map<string, number>();
  for (const { user_id: userId } of removed) perUser.set(userId, (perUser.get(userId) ?? 0) + 1);
  for (const [userId, count] of perUser) await lowerNotificationCount(trx, userId, count);
  return removed.length;
}

/**
 * Removes each user's events up to the newest seq among the candidates, and raises the user's floor to it: what is
 * left of a stream is always one unbroken run of seqs after the floor, so a resume either replays it whole or, from
 * before the floor, is told to reload (`reset`). The candidates were read without a lock, so under the user's lock
 * the newest one must still be there and still old: a stream that was erased and began again in between (its own
 * seqs, new) is left alone, and its floor is not raised past what it holds.
 */
async function removeEvents(trx: Trx, rows: readonly { user_id: string; seq: number }[], olderThan: string): Promise<number> {
  if (rows.length === 0) return 0;
  const newest = new Map<string, number>();
  for (const { user_id: userId, seq } of rows) newest.set(userId, Math.max(newest.get(userId) ?? 0, seq));
  await lockUsers(trx, newest.keys());
  let removed = 0;
  for (const [userId, seq] of newest) {
    const still = await trx
      .selectFrom('events')
      .select('seq')
      .where('user_id', '=', userId)
      .where('seq', '=', seq)
      .where('created_at', '<', olderThan)
      .executeTakeFirst();
    if (still === undefined) continue;
    const result = await trx.deleteFrom('events').where('user_id', '=', userId).where('seq', '<=', seq).executeTakeFirst();
    removed += Number(result.numDeletedRows);
    await trx
      .updateTable('user_streams')
      .set({ floor_seq: sql<number>`case when floor_seq < ${seq} then ${seq} else floor_seq end` })
      .where('user_id', '=', userId)
      .execute();
  }
  return removed;
}
