import BetterSqlite3 from 'better-sqlite3';
import { Kysely, sql, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStore, DEFAULT_INBOX_LIMITS } from '../../src/store/create-store.js';
import { openSqlite } from '../../src/store/open-sqlite.js';
import type { Database } from '../../src/store/schema.js';
import { SqliteAppender } from '../../src/store/sqlite-appender.js';
import type { AppendInput } from '../../src/store/store.js';
import { dropDatabase, freshSqlitePath } from '../helpers/databases.js';

// A large append on SQLite is one transaction run in slices, the event loop turning between them (so that a node
// draining a Kafka backlog still accepts connections). Against a real database file: the loop turns while it
// runs, nobody sees a part of the batch, a failure anywhere in it leaves nothing, and the next append starts
// clean. `sliceMs: 0` makes every statement a slice of its own, so that the turns do not depend on the machine.

const POISONED = 'poisoned';

function batch(count: number, users = 20, prefix = 'b'): AppendInput[] {
  return Array.from({ length: count }, (_, index) => ({
    userId: `user-${index % users}`,
    type: 'new_notification',
    key: `${prefix}-${index}`,
    payload: { index },
  }));
}

/** Counts the turns of the event loop until stopped. */
function countTurns(): { stop(): number } {
  let turns = 0;
  let running = true;
  const turn = (): void => {
    if (!running) return;
    turns++;
    setImmediate(turn);
  };
  setImmediate(turn);
  return {
    stop: () => {
      running = false;
      return turns;
    },
  };
}

describe('a large append on SQLite', () => {
  let path: string;
  let db: BetterSqlite3.Database;
  let kysely: Kysely<Database>;
  let appender: SqliteAppender;
  /** A second connection to the same file, as another process (or the checkpoint worker) would have. */
  let other: BetterSqlite3.Database;

  beforeEach(async () => {
    path = freshSqlitePath();
    const migrating = createStore(path);
    await migrating.migrate();
    await migrating.close();
    db = openSqlite(path, 'full');
    kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: db }) });
    appender = new SqliteAppender(db, kysely, DEFAULT_INBOX_LIMITS, { sliceMs: 0 });
    other = new BetterSqlite3(path, { readonly: true });
  });

  afterEach(async () => {
    other.close();
    await kysely.destroy();
    await dropDatabase(path);
  });

  const eventCount = (): number => (other.prepare('select count(*) as n from events').get() as { n: number }).n;

  it('lets the event loop turn while it runs, and no one sees part of it before its commit', async () => {
    const turns = countTurns();
    const seenMidway: number[] = [];
    const watcher = setInterval(() => seenMidway.push(eventCount()), 0);
    const results = await appender.append(batch(2000));
    clearInterval(watcher);
    const turned = turns.stop();

    expect(results).toHaveLength(2000);
    expect(turned).toBeGreaterThan(10);
    expect(seenMidway.length).toBeGreaterThan(0);
    expect(seenMidway.every((count) => count === 0 || count === 2000)).toBe(true);
    expect(eventCount()).toBe(2000);
    // Every user's seqs are 1..n, in the order of the batch.
    const seqs = other.prepare("select seq from events where user_id = 'user-3' order by seq").pluck().all();
    expect(seqs).toEqual(Array.from({ length: 100 }, (_, index) => index + 1));
  });

  it("keeps Kysely's connection throughout: a query asked for meanwhile runs after the commit, never inside it", async () => {
    const appending = appender.append(batch(1000));
    await new Promise((resolve) => setImmediate(resolve));
    const counted = kysely.selectFrom('events').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
    const [, { n }] = await Promise.all([appending, counted]);
    expect(n).toBe(1000);
    expect(db.inTransaction).toBe(false);
  });

  it.each([
    ['first', 0],
    ['in the middle', 700],
    ['last', 1499],
  ])('stores nothing of a batch whose %s record the database refuses, and the next append starts clean', async (_where, at) => {
    await appender.append(batch(40, 20, 'before'));
    const writer = new BetterSqlite3(path);
    writer.exec(`create trigger refuse_poisoned before insert on events when new.user_id = '${POISONED}'
                 begin select raise(abort, 'poisoned records are refused'); end`);
    writer.close();
    const inputs = batch(1500);
    inputs[at] = { ...inputs[at]!, userId: POISONED };

    await expect(appender.append(inputs)).rejects.toThrow('poisoned records are refused');
    expect(db.inTransaction).toBe(false);
    expect(eventCount()).toBe(40);
    const heads = other.prepare('select max(last_seq) from user_streams').pluck().get();
    expect(heads).toBe(2);

    // The same batch without the refused record: stored whole, numbered on from the heads as they were.
    const retried = await appender.append(inputs.filter((_input, index) => index !== at));
    expect(retried).toHaveLength(1499);
    expect(eventCount()).toBe(40 + 1499);
    expect(other.prepare("select min(seq) from events where key like 'b-%' and user_id = 'user-1'").pluck().get()).toBe(3);
  });

  it('stores a batch of a few records at once, without turning the loop', async () => {
    const turns = countTurns();
    await appender.append(batch(10));
    expect(turns.stop()).toBe(0);
    expect(eventCount()).toBe(10);
  });
});
