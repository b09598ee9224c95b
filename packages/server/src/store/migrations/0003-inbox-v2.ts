import { SqliteIntrospector, sql, type Kysely } from 'kysely';

// Migrations take Kysely<unknown>: they describe the schema as it was at their time, not as schema.ts says now.

/**
 * The second schema: one row per notification, and a stream that refers to it instead of copying it.
 *
 * - `events` (the stream) keeps every event's seq, type, key and creation time; a new_notification's row names its
 *   notification (`notification_id`) and holds no payload, which the notification row holds once. `payload_bytes`
 *   is the size of the event's payload text as a frame carries it (for a new_notification the record around the
 *   producer's payload), so a replay page is cut by size without reading a payload.
 * - `notifications` gains category, seen_at, archived_at, expires_at, actions and the action taken
 *   (actioned_id, actioned_at), and `payload_bytes` (the producer's payload), for the list's byte budget.
 * - `user_streams.floor_seq`: the stream's events up to this seq were removed (retention), so a resume from before
 *   it is told to reload (a `reset` frame) instead of being replayed with a gap. `notification_count`: how many
 *   notifications the user has, kept by every write, so that HERALD_MAX_NOTIFICATIONS_PER_USER is enforced as a
 *   user's append passes it, without counting.
 * - PostgreSQL: timestamps are `timestamptz` and payloads `jsonb`; SQLite keeps ISO text and JSON text.
 *
 * No foreign key from notifications to events any more: the stream is trimmed on its own (its length and age),
 * and a notification outlives the event that created it.
 *
 * Each table is copied into its new shape, in the order its rows were written (on SQLite that order is what the
 * retention sweep reads oldest-first by), and renamed, in the migration's one transaction (SQLite cannot change a
 * column's type; on PostgreSQL one copy rewrites each table once, where several ALTERs would rewrite it several
 * times). Every event keeps its seq, type, key, payload and time, every notification its id, key, status, read_at
 * and payload; a new_notification replays as the record it created, byte for byte (see event-rows.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const sqlite = db.introspection instanceof SqliteIntrospector;
  const time = sqlite ? 'text' : 'timestamptz';
  const json = sqlite ? 'text' : 'jsonb';
  const asTime = (column: string) => (sqlite ? sql.ref(column) : sql`${sql.ref(column)}::timestamptz`);
  const asJson = (column: string) => (sqlite ? sql.ref(column) : sql`${sql.ref(column)}::jsonb`);

  await db.schema
    .alterTable('user_streams')
    .addColumn('floor_seq', sqlite ? 'integer' : 'bigint', (col) => col.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('user_streams')
    .addColumn('notification_count', 'integer', (col) => col.notNull().defaultTo(0))
    .execute();
  await sql`
    update user_streams set notification_count = (select count(*) from notifications n where n.user_id = user_streams.user_id)
  `.execute(db);

  // A rowid table, not WITHOUT ROWID on SQLite: rows are appended at the end of the table's tree and only the small
  // (user_id, seq) key lands all over its index. Clustered by user, each ~100-byte row landed all over the table:
  // a 500-item append wrote 36% more WAL pages than schema 0001 and stored ~25% fewer items a second.
  await db.schema
    .createTable('events_v2')
    .addColumn('user_id', 'text', (col) => col.notNull())
    .addColumn('seq', sqlite ? 'integer' : 'bigint', (col) => col.notNull())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('key', 'text')
    .addColumn('notification_id', 'text')
    .addColumn('payload', json)
    .addColumn('payload_bytes', 'integer', (col) => col.notNull())
    .addColumn('created_at', time, (col) => col.notNull())
    .addPrimaryKeyConstraint('stream_pk', ['user_id', 'seq'])
    .execute();
  await sql`
    insert into events_v2 (user_id, seq, type, key, notification_id, payload, payload_bytes, created_at)
    select e.user_id, e.seq, e.type, e.key, n.id,
      case when e.type = 'new_notification' then null else ${asJson('e.payload')} end,
      octet_length(e.payload), ${asTime('e.created_at')}
    from events e left join notifications n on n.user_id = e.user_id and n.seq = e.seq
    order by e.created_at, e.user_id, e.seq
  `.execute(db);

  await db.schema
    .createTable('notifications_v2')
    .addColumn('id', 'text', (col) => col.notNull())
    .addColumn('user_id', 'text', (col) => col.notNull())
    .addColumn('seq', sqlite ? 'integer' : 'bigint', (col) => col.notNull())
    .addColumn('key', 'text')
    .addColumn('category', 'text')
    .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('unread', 'read')`))
    .addColumn('seen_at', time)
    .addColumn('read_at', time)
    .addColumn('archived_at', time)
    .addColumn('expires_at', time)
    .addColumn('created_at', time, (col) => col.notNull())
    .addColumn('actions', json)
    .addColumn('actioned_id', 'text')
    .addColumn('actioned_at', time)
    .addColumn('payload', json, (col) => col.notNull())
    .addColumn('payload_bytes', 'integer', (col) => col.notNull())
    .addPrimaryKeyConstraint('inbox_pk', ['id'])
    .execute();
  await sql`
    insert into notifications_v2 (id, user_id, seq, key, status, read_at, created_at, payload, payload_bytes)
    select id, user_id, seq, key, status, ${asTime('read_at')}, ${asTime('created_at')}, ${asJson('payload')}, octet_length(payload)
    from notifications
    order by created_at, user_id, seq
  `.execute(db);

  await db.schema.dropTable('notifications').execute();
  await db.schema.dropTable('events').execute();
  await db.schema.alterTable('events_v2').renameTo('events').execute();
  await db.schema.alterTable('notifications_v2').renameTo('notifications').execute();
  await createIndexes(db, sqlite);
}

/**
 * What each query reads through (their plans at 1M rows are in BENCHMARKS.md, "Query plans at 1M notifications"):
 * - events_by_key: the idempotency check of every keyed append, and its uniqueness (NULL keys never collide).
 * - events_by_age, notifications_by_age (PostgreSQL): retention's oldest-first batches, without a table scan. SQLite
 *   finds them in its rowid order, the order they were written in (sweep.ts), and writes two indexes fewer.
 * - notifications_by_seq: a user's list, newest first, and its cursor.
 * - notifications_by_category: a category's list of any status, newest first (without it, a category the user has
 *   none of read the whole inbox); categorised rows only.
 * - notifications_unread: only the unread, unarchived rows, with what the counts filter on (seen_at, expires_at),
 *   so the counts read the index alone (on PostgreSQL an index-only scan) and an unread list by category is a range.
 * - notifications_archived: the archive view, which holds a small part of an inbox.
 * - notifications_expiring: the removal of expired notifications; only the rows with an expiry are in it.
 */
async function createIndexes(db: Kysely<unknown>, sqlite: boolean): Promise<void> {
  // On SQLite only the keyed events: a publish without `id` and a user's own events have nothing to look up, and
  // `key = ?` implies the index's condition there. PostgreSQL keeps every row: its planner does not derive
  // `key IS NOT NULL` from the append's `(user_id, key) IN (VALUES ...)`.
  await db.schema
    .createIndex('events_by_key')
    .unique()
    .on('events')
    .columns(['user_id', 'key'])
    .$call((index) => (sqlite ? index.where(sql<boolean>`key is not null`) : index))
    .execute();
  if (!sqlite) await db.schema.createIndex('events_by_age').on('events').column('created_at').execute();
  await db.schema.createIndex('notifications_by_seq').unique().on('notifications').columns(['user_id', 'seq']).execute();
  // Only categorised rows: a list by category names one, so `category = ?` implies the condition on both databases,
  // and an uncategorised notification costs no write here.
  await db.schema
    .createIndex('notifications_by_category')
    .on('notifications')
    .columns(['user_id', 'category', 'seq'])
    .where(sql<boolean>`category is not null`)
    .execute();
  await db.schema
    .createIndex('notifications_unread')
    .on('notifications')
    .columns(['user_id', 'category', 'seq', 'seen_at', 'expires_at'])
    .where(sql<boolean>`status = 'unread' and archived_at is null`)
    .execute();
  await db.schema
    .createIndex('notifications_archived')
    .on('notifications')
    .columns(['user_id', 'seq'])
    .where(sql<boolean>`archived_at is not null`)
    .execute();
  if (!sqlite) await db.schema.createIndex('notifications_by_age').on('notifications').column('created_at').execute();
  await db.schema
    .createIndex('notifications_expiring')
    .on('notifications')
    .column('expires_at')
    .where(sql<boolean>`expires_at is not null`)
    .execute();
}

export function down(): Promise<void> {
  // The first schema had no place for categories, seen, archived, expiry or actions: going back would lose them.
  return Promise.reject(new Error('migration 0003-inbox-v2 cannot be undone; restore a backup taken before it'));
}
