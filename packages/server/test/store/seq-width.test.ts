import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/create-store.js';
import * as inbox from '../../src/store/migrations/0001-inbox.js';
import type { Store, StoredEvent } from '../../src/store/store.js';
import { databaseKinds, dropDatabase, freshDatabaseUrl, type DatabaseKind } from '../helpers/databases.js';

// Seqs are 64-bit on both databases (SQLite's INTEGER; bigint on PostgreSQL since migration 0002), and every
// read of the store hands them back as numbers, exact up to Number.MAX_SAFE_INTEGER.

const INT4_MAX = 2 ** 31 - 1;
const SEQ_COLUMNS = [
  ['user_streams', 'last_seq'],
  ['events', 'seq'],
  ['notifications', 'seq'],
] as const;

/** Runs `statements` on the database itself, beside any store (SQLite's WAL lets a second connection write). */
async function execute(kind: DatabaseKind, url: string, statements: readonly string[]): Promise<unknown[][]> {
  if (kind === 'sqlite') {
    const db = new BetterSqlite3(url);
    try {
      return statements.map((text) => {
        const statement = db.prepare(text);
        return statement.reader ? statement.all() : (statement.run(), []);
      });
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const results: unknown[][] = [];
    for (const text of statements) results.push((await client.query(text)).rows);
    return results;
  } finally {
    await client.end();
  }
}

/** The declared type of every seq column, as the database itself names it. */
async function seqColumnTypes(kind: DatabaseKind, url: string): Promise<Record<string, string>> {
  const types: Record<string, string> = {};
  for (const [table, column] of SEQ_COLUMNS) {
    const [rows] =
      kind === 'sqlite'
        ? await execute(kind, url, [`select type from pragma_table_info('${table}') where name = '${column}'`])
        : await execute(kind, url, [`select data_type as type from information_schema.columns where table_name = '${table}' and column_name = '${column}'`]);
    types[`${table}.${column}`] = (rows![0] as { type: string }).type;
  }
  return types;
}

/** A user whose stream has reached `head` (what a long-lived stream would look like, without the rows before). */
const streamAt = (kind: DatabaseKind, url: string, userId: string, head: number) =>
  execute(kind, url, [`insert into user_streams (user_id, last_seq) values ('${userId}', ${head})`]);

const seqsOf = (events: readonly StoredEvent[]) => events.map((event) => event.seq);

describe.each(databaseKinds)('seqs past 32 bits on %s', (kind) => {
  let url: string | undefined;
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    if (url !== undefined) await dropDatabase(url);
    store = url = undefined;
  });

  async function migrated(): Promise<Store> {
    url = await freshDatabaseUrl(kind);
    store = createStore(url);
    await store.migrate();
    return store;
  }

  it('holds every seq in a 64-bit column after the migrations', async () => {
    await migrated();
    const expected = kind === 'sqlite' ? 'INTEGER' : 'bigint';
    expect(await seqColumnTypes(kind, url!)).toEqual({ 'user_streams.last_seq': expected, 'events.seq': expected, 'notifications.seq': expected });
  });

  it('goes on past 2^31 with every read returning the seqs as numbers', async () => {
    const db = await migrated();
    await streamAt(kind, url!, 'wide', INT4_MAX - 1);
    const notification = (n: number) => ({ userId: 'wide', type: 'new_notification' as const, key: `n-${n}`, payload: { n } });
    const appended = await db.append([notification(1), notification(2), { userId: 'wide', type: 'task_update', key: null, payload: {} }]);
    expect(seqsOf(appended)).toEqual([INT4_MAX, INT4_MAX + 1, INT4_MAX + 2]);

    expect(seqsOf(await db.eventsAfter('wide', INT4_MAX, 10))).toEqual([INT4_MAX + 1, INT4_MAX + 2]);
    expect(seqsOf(await db.eventsAfter('wide', INT4_MAX + 2, 10))).toEqual([]);
    expect(await db.headSeq('wide')).toBe(INT4_MAX + 2);

    const first = await db.listNotifications('wide', { status: 'all', limit: 1 });
    expect(first.items.map((item) => item.payload)).toEqual([{ n: 2 }]);
    expect(first.nextBeforeSeq).toBe(INT4_MAX + 1);
    const second = await db.listNotifications('wide', { status: 'all', limit: 1, beforeSeq: first.nextBeforeSeq! });
    expect(second).toEqual({ items: [expect.objectContaining({ payload: { n: 1 } })], nextBeforeSeq: null });
    expect(await db.listNotifications('wide', { status: 'all', limit: 5, beforeSeq: INT4_MAX })).toEqual({ items: [], nextBeforeSeq: null });

    expect(await db.unreadCount('wide')).toEqual({ count: 2, headSeq: INT4_MAX + 2 });
    const read = await db.markRead('wide', [second.items[0]!.id]);
    expect(read?.seq).toBe(INT4_MAX + 3);
    expect(await db.markAllRead('wide')).toMatchObject({ seq: INT4_MAX + 4 });
    expect(await db.unreadCount('wide')).toEqual({ count: 0, headSeq: INT4_MAX + 4 });
  });

  it('numbers a stream exactly up to Number.MAX_SAFE_INTEGER', async () => {
    const db = await migrated();
    const top = Number.MAX_SAFE_INTEGER;
    await streamAt(kind, url!, 'top', top - 2);
    const appended = await db.append([1, 2].map((n) => ({ userId: 'top', type: 'new_notification' as const, key: null, payload: { n } })));
    expect(seqsOf(appended)).toEqual([top - 1, top]);
    expect(seqsOf(await db.eventsAfter('top', top - 1, 10))).toEqual([top]);
    expect(await db.headSeq('top')).toBe(top);
    const page = await db.listNotifications('top', { status: 'all', limit: 1, beforeSeq: top });
    expect(page.items.map((item) => item.payload)).toEqual([{ n: 1 }]);
    expect(await db.unreadCount('top')).toEqual({ count: 2, headSeq: top });
  });

  it('widens a database of schema 0001 whose stream is at the 32-bit limit', async () => {
    url = await freshDatabaseUrl(kind);
    const old = new Kysely<unknown>({
      dialect:
        kind === 'sqlite'
          ? new SqliteDialect({ database: new BetterSqlite3(url) })
          : new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
    });
    try {
      const { error } = await new Migrator({ db: old, provider: { getMigrations: async () => ({ '0001-inbox': inbox }) } }).migrateToLatest();
      expect(error).toBeUndefined();
    } finally {
      await old.destroy();
    }
    await streamAt(kind, url, 'edge', INT4_MAX - 1);
    store = createStore(url);
    await store.migrate();
    expect(seqsOf(await store.append([{ userId: 'edge', type: 'new_notification', key: 'k', payload: {} }]))).toEqual([INT4_MAX]);
    // Past the old limit, where PostgreSQL's integer ended.
    expect(seqsOf(await store.append([{ userId: 'edge', type: 'new_notification', key: 'k2', payload: {} }]))).toEqual([INT4_MAX + 1]);
    expect(await store.headSeq('edge')).toBe(INT4_MAX + 1);
  });
});
