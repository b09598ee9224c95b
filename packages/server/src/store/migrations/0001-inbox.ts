import { sql, type Kysely } from 'kysely';

// Migrations take Kysely<unknown>: they describe the schema as it was at their time, not as schema.ts says now.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('user_streams')
    .addColumn('user_id', 'text', (col) => col.primaryKey())
    .addColumn('last_seq', 'integer', (col) => col.notNull())
    .execute();

  await db.schema
    .createTable('events')
    .addColumn('user_id', 'text', (col) => col.notNull().references('user_streams.user_id'))
    .addColumn('seq', 'integer', (col) => col.notNull())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('key', 'text')
    .addColumn('payload', 'text', (col) => col.notNull())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('events_pk', ['user_id', 'seq'])
    // NULL keys never collide (in both databases), so events without a key are never deduplicated.
    .addUniqueConstraint('events_user_key_unique', ['user_id', 'key'])
    .execute();

  await db.schema
    .createTable('notifications')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'text', (col) => col.notNull())
    .addColumn('seq', 'integer', (col) => col.notNull())
    .addColumn('key', 'text')
    .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('unread', 'read')`))
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('read_at', 'text')
    .addColumn('payload', 'text', (col) => col.notNull())
    .addForeignKeyConstraint('notifications_event_fk', ['user_id', 'seq'], 'events', ['user_id', 'seq'])
    .execute();

  await db.schema.createIndex('notifications_user_seq').on('notifications').columns(['user_id', 'seq']).execute();
  // seq last so that one index serves both the unread count and an unread page ordered by seq.
  await db.schema
    .createIndex('notifications_user_status_seq')
    .on('notifications')
    .columns(['user_id', 'status', 'seq'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('notifications').execute();
  await db.schema.dropTable('events').execute();
  await db.schema.dropTable('user_streams').execute();
}
