import { SqliteIntrospector, type Kysely } from 'kysely';

// Migrations take Kysely<unknown>: they describe the schema as it was at their time, not as schema.ts says now.

/** Every column that holds a seq: a user's head, an event's place in its stream, a notification's event. */
const SEQ_COLUMNS = [
  ['user_streams', 'last_seq'],
  ['events', 'seq'],
  ['notifications', 'seq'],
] as const;

/**
 * Seqs become 64-bit on PostgreSQL, where 0001 made them `integer` (32 bits): a cursor or `since` past
 * 2,147,483,647 was a query error (a 500) there, and a user's stream could not grow past it. SQLite's INTEGER is
 * 64-bit already (and SQLite cannot change a column's type), so there is nothing to do on it.
 *
 * On PostgreSQL each ALTER rewrites its table and indexes under an exclusive lock, in the migration's one
 * transaction: a start-up on a large database waits for it, and nothing is changed if it fails. The foreign key
 * from notifications (user_id, seq) to events holds throughout (int4 and int8 compare in one operator family).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (db.introspection instanceof SqliteIntrospector) return;
  for (const [table, column] of SEQ_COLUMNS) {
    await db.schema.alterTable(table).alterColumn(column, (col) => col.setDataType('bigint')).execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (db.introspection instanceof SqliteIntrospector) return;
  // Fails, changing nothing, once a seq is past 32 bits: narrowing it back would lose it.
  for (const [table, column] of [...SEQ_COLUMNS].reverse()) {
    await db.schema.alterTable(table).alterColumn(column, (col) => col.setDataType('integer')).execute();
  }
}
