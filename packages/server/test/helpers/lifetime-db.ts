import BetterSqlite3 from 'better-sqlite3';
import { createStore } from '../../src/store/create-store.js';
import type { AppendInput, Store } from '../../src/store/store.js';
import type { InboxLimits } from '../../src/store/store.js';
import { dropDatabase, freshDatabaseUrl, type DatabaseKind } from './databases.js';
import { pgClient } from './pg-client.js';

/**
 * Direct SQL on a test's database, beside the stores on it (SQLite's WAL lets a second connection write): to make
 * rows old, which no API of Herald can, and to read what the tables hold after a sweep or a trim. Statements use
 * `?` placeholders on both databases.
 */
export interface RawDatabase {
  rows<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<Row[]>;
  run(text: string, params?: readonly unknown[]): Promise<void>;
  close(): Promise<void>;
}

export async function rawDatabase(url: string): Promise<RawDatabase> {
  if (!/^postgres(ql)?:\/\//.test(url)) {
    const db = new BetterSqlite3(url);
    db.pragma('busy_timeout = 10000');
    return {
      rows: async <Row>(text: string, params: readonly unknown[] = []) => db.prepare(text).all(...params) as Row[],
      run: async (text, params = []) => void db.prepare(text).run(...params),
      close: async () => void db.close(),
    };
  }
  const client = pgClient(url);
  await client.connect();
  let n = 0;
  const numbered = (text: string) => text.replace(/\?/g, () => `$${++n}`);
  const query = async (text: string, params: readonly unknown[]) => {
    n = 0;
    return (await client.query(numbered(text), [...params])).rows;
  };
  return {
    rows: async <Row>(text: string, params: readonly unknown[] = []) => (await query(text, params)) as Row[],
    run: async (text, params = []) => void (await query(text, params)),
    close: () => client.end(),
  };
}

/** A time long before any retention period: what "old" means in these tests. */
export const LONG_AGO = '2001-01-01T00:00:00.000Z';

/** LONG_AGO plus `seconds`, so that rows made old keep an order of age. */
export function longAgoPlus(seconds: number): string {
  return new Date(Date.parse(LONG_AGO) + seconds * 1000).toISOString();
}

/** Sets created_at of the user's rows of `table` with these seqs (each its own time, `at(seq)`). */
export async function backdate(
  db: RawDatabase,
  table: 'notifications' | 'events',
  userId: string,
  seqs: readonly number[],
  at: (seq: number) => string = longAgoPlus,
): Promise<void> {
  for (const seq of seqs) await db.run(`update ${table} set created_at = ? where user_id = ? and seq = ?`, [at(seq), userId, seq]);
}

/** Sets expires_at of the user's notifications with these seqs. */
export async function expireAt(db: RawDatabase, userId: string, seqs: readonly number[], at: string): Promise<void> {
  for (const seq of seqs) await db.run('update notifications set expires_at = ? where user_id = ? and seq = ?', [at, userId, seq]);
}

export interface StreamRow {
  last_seq: number;
  floor_seq: number;
  notification_count: number;
}

/** The user's user_streams row, undefined when there is none. */
export async function streamRow(db: RawDatabase, userId: string): Promise<StreamRow | undefined> {
  const [row] = await db.rows<StreamRow>('select last_seq, floor_seq, notification_count from user_streams where user_id = ?', [userId]);
  return row === undefined ? undefined : { last_seq: Number(row.last_seq), floor_seq: Number(row.floor_seq), notification_count: Number(row.notification_count) };
}

/** The seqs of the user's rows of `table`, ascending. */
export async function seqsIn(db: RawDatabase, table: 'notifications' | 'events', userId: string): Promise<number[]> {
  const rows = await db.rows<{ seq: number }>(`select seq from ${table} where user_id = ? order by seq`, [userId]);
  return rows.map((row) => Number(row.seq));
}

/** Users whose user_streams.notification_count differs from the notifications they have: none when counts are right. */
export async function miscountedUsers(db: RawDatabase): Promise<Array<{ user_id: string; kept: number; counted: number }>> {
  const rows = await db.rows<{ user_id: string; kept: number; counted: number }>(
    `select s.user_id, s.notification_count as kept, (select count(*) from notifications n where n.user_id = s.user_id) as counted
     from user_streams s`,
  );
  return rows.map((row) => ({ ...row, kept: Number(row.kept), counted: Number(row.counted) })).filter((row) => row.kept !== row.counted);
}

/** A migrated store on a fresh database of `kind`, and what removes both. */
export interface LifetimeStore {
  store: Store;
  url: string;
  db: RawDatabase;
  /** Another store on the same database (another node), closed by cleanup. */
  another(limits?: InboxLimits): Promise<Store>;
  cleanup(): Promise<void>;
}

export async function lifetimeStore(kind: DatabaseKind, limits?: InboxLimits): Promise<LifetimeStore> {
  const url = await freshDatabaseUrl(kind);
  const store = createStore(url, { limits });
  await store.migrate();
  const db = await rawDatabase(url);
  const stores = [store];
  return {
    store,
    url,
    db,
    another: async (otherLimits) => {
      const other = createStore(url, { limits: otherLimits });
      stores.push(other);
      await other.migrate();
      return other;
    },
    cleanup: async () => {
      await db.close();
      for (const each of stores) await each.close();
      await dropDatabase(url);
    },
  };
}

/** `count` notifications for the user, titled n1, n2, ... from `first`. */
export function notifications(userId: string, count: number, first = 1): AppendInput[] {
  return Array.from({ length: count }, (_, index) => ({
    userId,
    type: 'new_notification' as const,
    key: null,
    payload: { title: `n${first + index}` },
  }));
}

export function range(from: number, to: number): number[] {
  return to < from ? [] : Array.from({ length: to - from + 1 }, (_, index) => from + index);
}
