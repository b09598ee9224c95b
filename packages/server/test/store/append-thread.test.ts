import BetterSqlite3 from 'better-sqlite3';
import { Kysely, sql, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppendThread } from '../../src/store/append-thread.js';
import { createStore, DEFAULT_INBOX_LIMITS } from '../../src/store/create-store.js';
import { openSqlite } from '../../src/store/open-sqlite.js';
import type { Database } from '../../src/store/schema.js';
import { SqliteAppender } from '../../src/store/sqlite-appender.js';
import type { AppendInput, StoredEvent } from '../../src/store/store.js';
import { isStoreUnavailable } from '../../src/store/unavailable.js';
import { dropDatabase, freshSqlitePath } from '../helpers/databases.js';

// An append of thousands of records on a SQLite file runs on the append thread, with its own connection, so that
// the event loop decodes and delivers meanwhile. Against a real database file: the commit happens while the main
// thread is busy with something else, nobody sees part of it, the database's refusal comes back with its code,
// and what the thread stored is what the node's own connection reads and numbers on from.

const LARGE = 1_500;

function batch(count: number, users = 20, prefix = 'b'): AppendInput[] {
  return Array.from({ length: count }, (_, index) => ({
    userId: `user-${index % users}`,
    type: 'new_notification',
    key: `${prefix}-${index}`,
    payload: { index, text: `notification ${index}`, nested: { list: [index, 'é', null] } },
  }));
}

/** Holds the main thread (no turn of the loop) until `done` says so, or a deadline passes; returns whether it did. */
function holdMainThreadUntil(done: () => boolean, deadlineMs = 20_000): boolean {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) if (done()) return true;
  return false;
}

describe('the SQLite append thread', () => {
  let path: string;
  let db: BetterSqlite3.Database;
  let kysely: Kysely<Database>;
  let thread: AppendThread;
  let appender: SqliteAppender;
  /** A second connection to the same file, as another process would have. */
  let other: BetterSqlite3.Database;

  beforeEach(async () => {
    path = freshSqlitePath();
    const migrating = createStore(path);
    await migrating.migrate();
    await migrating.close();
    db = openSqlite(path, 'full');
    kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: db }) });
    thread = new AppendThread({ path, synchronous: 'full', limits: DEFAULT_INBOX_LIMITS });
    appender = new SqliteAppender(db, kysely, DEFAULT_INBOX_LIMITS, { thread });
    other = new BetterSqlite3(path, { readonly: true });
  });

  afterEach(async () => {
    await thread.stop();
    other.close();
    await kysely.destroy();
    await dropDatabase(path);
  });

  const eventCount = (): number => (other.prepare('select count(*) as n from events').get() as { n: number }).n;

  it('commits a large batch while the main thread is held, and returns every event numbered in batch order', async () => {
    const inputs = batch(LARGE);
    const appending = appender.append(inputs);
    // Kysely hands the connection over within a few microtasks: give them a turn, then hold the thread.
    await new Promise((resolve) => setImmediate(resolve));
    expect(holdMainThreadUntil(() => eventCount() === LARGE)).toBe(true);
    const results = await appending;

    expect(results).toHaveLength(LARGE);
    const events = results as StoredEvent[];
    expect(events.map((event) => event.userId)).toEqual(inputs.map((input) => input.userId));
    expect(events.filter((event) => event.userId === 'user-3').map((event) => event.seq)).toEqual(Array.from({ length: LARGE / 20 }, (_, index) => index + 1));
    expect((events[7]!.payload as { payload: unknown }).payload).toEqual(inputs[7]!.payload);
    expect(JSON.parse(events[7]!.payloadJson!)).toEqual(events[7]!.payload);
    expect(other.prepare("select last_seq from user_streams where user_id = 'user-3'").pluck().get()).toBe(LARGE / 20);
  });

  it("keeps Kysely's connection while the thread appends: a query asked for meanwhile sees all of the batch or none", async () => {
    const appending = appender.append(batch(LARGE));
    await new Promise((resolve) => setImmediate(resolve));
    const counted = kysely.selectFrom('events').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
    const [, { n }] = await Promise.all([appending, counted]);
    expect(n).toBe(LARGE);
  });

  it("numbers on from what the thread stored, and finds its keys stored, on the node's own connection", async () => {
    await appender.append(batch(LARGE));
    // A small batch runs here, on the main connection: the same keys are repeats, a new one takes the next seq.
    const repeats = await appender.append(batch(10));
    expect(repeats).toEqual(Array.from({ length: 10 }, () => null));
    const [next] = (await appender.append([{ userId: 'user-3', type: 'new_notification', key: 'new', payload: {} }])) as StoredEvent[];
    expect(next!.seq).toBe(LARGE / 20 + 1);
    // And the other way round: keys stored here are repeats on the thread.
    const again = await appender.append(batch(LARGE));
    expect(again.every((result) => result === null)).toBe(true);
    expect(eventCount()).toBe(LARGE + 1);
  });

  it.each([
    ['first', 0],
    ['in the middle', 700],
    ['last', LARGE - 1],
  ])("stores nothing of a batch whose %s record the database refuses, says so with SQLite's code, and goes on", async (_where, at) => {
    const writer = new BetterSqlite3(path);
    writer.exec(`create trigger refuse_poisoned before insert on events when new.user_id = 'poisoned'
                 begin select raise(abort, 'poisoned records are refused'); end`);
    writer.close();
    const inputs = batch(LARGE);
    inputs[at] = { ...inputs[at]!, userId: 'poisoned' };

    const failure = await appender.append(inputs).then(
      () => undefined,
      (error: unknown) => error as Error & { code?: unknown },
    );
    expect(failure?.message).toContain('poisoned records are refused');
    expect(failure?.code).toBe('SQLITE_CONSTRAINT_TRIGGER');
    // A refusal is not an outage: the Kafka source dead-letters the record instead of retrying it.
    expect(isStoreUnavailable(failure)).toBe(false);
    expect(eventCount()).toBe(0);

    const retried = await appender.append(inputs.filter((_input, index) => index !== at));
    expect(retried).toHaveLength(LARGE - 1);
    expect(eventCount()).toBe(LARGE - 1);
  });

  it('a busy database comes back as an outage, which the caller retries', async () => {
    const locker = new BetterSqlite3(path);
    locker.pragma('busy_timeout = 0');
    locker.exec('begin immediate');
    const busyThread = new AppendThread({ path, synchronous: 'full', limits: DEFAULT_INBOX_LIMITS });
    try {
      // The thread's connection waits busy_timeout (5 s) for the lock, then gives up with SQLITE_BUSY.
      const failure = await busyThread.append(batch(LARGE)).catch((error: unknown) => error as Error & { code?: unknown });
      expect((failure as { code?: unknown }).code).toBe('SQLITE_BUSY');
      expect(isStoreUnavailable(failure)).toBe(true);
      locker.exec('rollback');
      expect(await busyThread.append(batch(LARGE))).toHaveLength(LARGE);
    } finally {
      if (locker.inTransaction) locker.exec('rollback');
      locker.close();
      await busyThread.stop();
    }
  }, 20_000);

  it('finishes what it was sent before it stops, and a later append starts it again', async () => {
    const first = thread.append(batch(LARGE));
    await thread.stop();
    expect(await first).toHaveLength(LARGE);
    expect(await thread.append(batch(LARGE, 20, 'later'))).toHaveLength(LARGE);
    expect(eventCount()).toBe(2 * LARGE);
  });
});

describe('a SQLite store', () => {
  it('appends a large batch on its file off the main thread, and one in memory in slices on it', async () => {
    const path = freshSqlitePath();
    const store = createStore(path);
    await store.migrate();
    const other = new BetterSqlite3(path, { readonly: true });
    try {
      const appending = store.append(batch(LARGE));
      await new Promise((resolve) => setImmediate(resolve));
      const count = (): number => other.prepare('select count(*) from events').pluck().get() as number;
      expect(holdMainThreadUntil(() => count() === LARGE)).toBe(true);
      expect(await appending).toHaveLength(LARGE);
    } finally {
      other.close();
      await store.close();
      await dropDatabase(path);
    }

    const memory = createStore(':memory:');
    await memory.migrate();
    expect(await memory.append(batch(LARGE))).toHaveLength(LARGE);
    await memory.close();
  });
});
