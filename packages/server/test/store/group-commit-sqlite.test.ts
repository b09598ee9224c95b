import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Appender, AppendResults } from '../../src/store/appender.js';
import { createStore, DEFAULT_INBOX_LIMITS } from '../../src/store/create-store.js';
import { GroupCommit } from '../../src/store/group-commit.js';
import { openSqlite } from '../../src/store/open-sqlite.js';
import type { Database } from '../../src/store/schema.js';
import { SqliteAppender } from '../../src/store/sqlite-appender.js';
import type { AppendInput, Store, StoredEvent } from '../../src/store/store.js';
import { dropDatabase, freshSqlitePath } from '../helpers/databases.js';

// Group commit against the real SQLite appender: the appends of one event-loop turn share one transaction, and
// when one caller's batch makes that transaction fail, the others must still be stored, each with its own seqs,
// and only that caller may see the error. (On PostgreSQL each append is its own transaction, with no group
// commit: see create-store.ts.)
//
// The failure is SQLite's own: a trigger on the test's database refuses every event of the user "poisoned", as a
// constraint would, in the middle of a transaction that has already inserted other batches' rows.

const POISONED = 'poisoned';
const REFUSAL = 'events of poisoned are refused';

/** Adds the trigger through a second connection, as an operator's tool would; the store's connection sees it. */
function refusePoisoned(path: string): void {
  const db = new BetterSqlite3(path);
  db.exec(`create trigger refuse_poisoned before insert on events when new.user_id = '${POISONED}'
           begin select raise(abort, '${REFUSAL}'); end`);
  db.close();
}

/** An item whose payload names the batch it came in, so that every stored event can be traced to its caller. */
function item(userId: string, batch: string, key: string | null = null): AppendInput {
  return { userId, type: 'new_notification', key, payload: { batch, userId } };
}

/** Four batches for one turn; the poisoned one, at `poisonAt`, also holds an item of alice's that must not be stored. */
function batchesWithPoisonAt(poisonAt: number): AppendInput[][] {
  const good = [
    [item('alice', 'g1'), item('bob', 'g1')],
    [item('bob', 'g2'), item('carol', 'g2', 'k-carol'), item('alice', 'g2')],
    [item('carol', 'g3'), item('alice', 'g3', 'k-alice')],
  ];
  const poisoned = [item('alice', 'poisoned'), item(POISONED, 'poisoned'), item('carol', 'poisoned')];
  return [...good.slice(0, poisonAt), poisoned, ...good.slice(poisonAt)];
}

const oneTo = (count: number): number[] => Array.from({ length: count }, (_, index) => index + 1);

describe.each([0, 1, 3])('one failing batch among four appended in one turn, at position %i', (poisonAt) => {
  let path: string;
  let store: Store;

  beforeEach(async () => {
    path = freshSqlitePath();
    store = createStore(path);
    await store.migrate();
    refusePoisoned(path);
    // Heads that do not start at zero: a failed transaction must not move them.
    expect((await store.append([item('alice', 'before'), item('bob', 'before')])).map((event) => event.seq)).toEqual([1, 1]);
  });
  afterEach(async () => {
    await store.close();
    await dropDatabase(path);
  });

  it('stores every other batch with gapless seqs and rejects only the failing one, with its error', async () => {
    const batches = batchesWithPoisonAt(poisonAt);
    // No await between the appends: they reach the group commit in the same turn.
    const results = await Promise.allSettled(batches.map((batch) => store.append(batch)));

    results.forEach((result, index) => {
      if (index === poisonAt) {
        expect(result.status).toBe('rejected');
        const reason = (result as PromiseRejectedResult).reason as { code?: string; message?: string };
        expect(reason.code).toBe('SQLITE_CONSTRAINT_TRIGGER');
        expect(reason.message).toBe(REFUSAL);
        return;
      }
      expect(result.status, `batch ${index}`).toBe('fulfilled');
      // Exactly its own events, in its input order, each stored.
      const events = (result as PromiseFulfilledResult<StoredEvent[]>).value;
      expect(events.map((event) => [event.userId, (event.payload['payload'] as { batch: string }).batch])).toEqual(
        batches[index]!.map((input) => [input.userId, input.payload['batch']]),
      );
    });

    const returned = results.flatMap((result) => (result.status === 'fulfilled' ? result.value : []));
    const expectedCount = { alice: 1 + 3, bob: 1 + 2, carol: 2 };
    for (const [userId, count] of Object.entries(expectedCount)) {
      // Gapless from 1, and the store holds exactly what the callers were handed: nothing of the failed batch.
      const mine = returned.filter((event) => event.userId === userId).map((event) => event.seq).sort((a, b) => a - b);
      const before = userId === 'carol' ? 0 : 1;
      expect(mine, userId).toEqual(oneTo(count).slice(before));
      const stored = await store.eventsAfter(userId, 0, 100);
      expect(stored.map((event) => event.seq), userId).toEqual(oneTo(count));
      expect(stored.map((event) => (event.payload['payload'] as { batch: string }).batch)).not.toContain('poisoned');
      expect(await store.headSeq(userId)).toBe(count);
      expect((await store.unreadCount(userId)).count).toBe(count);
    }
    expect(await store.headSeq(POISONED)).toBe(0);
    expect(await store.eventsAfter(POISONED, 0, 100)).toEqual([]);

    // Later appends go on from the heads, and the failed batch's users can still be written.
    const after = await store.append([item('alice', 'after'), item('carol', 'after'), item('carol', 'again', 'k-carol')]);
    expect(after.map((event) => [event.userId, event.seq])).toEqual([
      ['alice', expectedCount.alice + 1],
      ['carol', expectedCount.carol + 1],
    ]);
  });
});

describe('the shared transaction on SQLite', () => {
  let path: string;
  let kysely: Kysely<Database> | undefined;
  afterEach(async () => {
    await kysely?.destroy();
    kysely = undefined;
    await dropDatabase(path);
  });

  it('is tried once for the whole turn, then once per batch, on the real appender', async () => {
    path = freshSqlitePath();
    const migrating = createStore(path);
    await migrating.migrate();
    await migrating.close();
    refusePoisoned(path);

    // Composed as create-store.ts composes it, with each commit recorded on its way to the real appender.
    const db = openSqlite(path, 'full');
    kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: db }) });
    const appender = new SqliteAppender(db, kysely, DEFAULT_INBOX_LIMITS);
    const attempts: { batches: string[]; ok: boolean }[] = [];
    const recording: Appender = {
      append: async (inputs): Promise<AppendResults> => {
        const batches = [...new Set(inputs.map((input) => input.payload['batch'] as string))];
        try {
          const results = await appender.append(inputs);
          attempts.push({ batches, ok: true });
          return results;
        } catch (error) {
          attempts.push({ batches, ok: false });
          throw error;
        }
      },
    };
    const group = new GroupCommit(recording, 1000);
    const batches = batchesWithPoisonAt(1);
    const results = await Promise.allSettled(batches.map((batch) => group.append(batch)));

    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(attempts).toEqual([
      { batches: ['g1', 'poisoned', 'g2', 'g3'], ok: false },
      { batches: ['g1'], ok: true },
      { batches: ['poisoned'], ok: false },
      { batches: ['g2'], ok: true },
      { batches: ['g3'], ok: true },
    ]);
    // The shared attempt left nothing behind: the retries numbered from 1.
    const seqs = db.prepare("select user_id, group_concat(seq) as seqs from (select * from events order by seq) group by user_id order by user_id").all();
    expect(seqs).toEqual([
      { user_id: 'alice', seqs: '1,2,3' },
      { user_id: 'bob', seqs: '1,2' },
      { user_id: 'carol', seqs: '1,2' },
    ]);
  });
});
