import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { StreamColumns } from './record-rows.js';
import type { InboxCounts } from './store.js';

/** The columns a notification record is built from (record-rows.ts, NotificationColumns). */
export const NOTIFICATION_COLUMNS = [
  'id',
  'key',
  'category',
  'status',
  'seen_at',
  'read_at',
  'archived_at',
  'expires_at',
  'created_at',
  'actions',
  'actioned_id',
  'actioned_at',
  'payload',
] as const;

/** Now, as every timestamp is written and compared: ISO text, which sorts as time does (and casts to timestamptz). */
export function now(): string {
  return new Date().toISOString();
}

/** Notifications that have not expired at `at`: an expired one is never listed, counted or changed. */
export function notExpired(at: string) {
  return (eb: ExpressionBuilder<Database, 'notifications'>) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', at)]);
}

/**
 * The user's stream rows with their notifications' columns (toStoredEvent). With `small`, a payload is read only
 * when its size (payload_bytes) is at most that; with null, every payload is.
 */
export function streamRows(db: Kysely<Database>, userId: string, small: number | null) {
  const fits = (column: 'e.payload' | 'n.payload') =>
    small === null ? sql<string | object | null>`${sql.ref(column)}` : sql<string | object | null>`case when e.payload_bytes <= ${small} then ${sql.ref(column)} end`;
  return db
    .selectFrom('events as e')
    .leftJoin('notifications as n', 'n.id', 'e.notification_id')
    .select([
      'e.user_id',
      'e.seq',
      'e.type',
      'e.created_at',
      'e.notification_id',
      'e.payload_bytes as size',
      fits('e.payload').as('payload'),
      'n.id as n_id',
      'n.key as n_key',
      'n.category as n_category',
      'n.expires_at as n_expires_at',
      'n.created_at as n_created_at',
      'n.actions as n_actions',
      fits('n.payload').as('n_payload'),
    ])
    .where('e.user_id', '=', userId)
    .$castTo<StreamColumns & { size: number }>();
}

/**
 * The counts and the head seq in one statement, so PostgreSQL reads both from one snapshot: the counts are
 * exactly the state at the head seq. Only unread, unarchived rows are counted (the notifications_unread index
 * holds exactly those); unseen ones are a part of them, since reading marks seen.
 */
export async function readCounts(db: Kysely<Database>, userId: string): Promise<InboxCounts> {
  const at = now();
  const rows = await db
    .selectFrom((eb) =>
      eb
        .selectFrom('user_streams')
        .select((sub) => sub.fn.coalesce(sub.fn.max('last_seq'), sql.lit(0)).as('head_seq'))
        .where('user_id', '=', userId)
        .as('head'),
    )
    .leftJoin(
      (eb) =>
        eb
          .selectFrom('notifications')
          .select((sub) => [
            'category',
            sub.fn.countAll<number>().as('unread'),
            sub.fn.sum<number>(sql`case when seen_at is null then 1 else 0 end`).as('unseen'),
          ])
          .where('user_id', '=', userId)
          // Written out, not bound: SQLite uses a partial index only for the very terms of its WHERE.
          .where(sql<boolean>`status = 'unread' and archived_at is null`)
          .where(notExpired(at))
          .groupBy('category')
          .as('c'),
      (join) => join.onTrue(),
    )
    .select(['head.head_seq', 'c.category', 'c.unread', 'c.unseen'])
    .execute();
  const counts: InboxCounts = { unread: 0, unseen: 0, categories: {}, headSeq: Number(rows[0]?.head_seq ?? 0) };
  for (const row of rows) {
    if (row.unread === null) continue;
    const unread = Number(row.unread);
    const unseen = Number(row.unseen ?? 0);
    counts.unread += unread;
    counts.unseen += unseen;
    if (row.category !== null) counts.categories[row.category] = { unread, unseen };
  }
  return counts;
}
