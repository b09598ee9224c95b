import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '@herald/protocol';
import { HeraldError } from '../../src/errors.js';
import { createStore } from '../../src/store/create-store.js';
import { guardOutages } from '../../src/store/outage-guard.js';
import type { AppendInput, Store } from '../../src/store/store.js';
import { isStoreUnavailable } from '../../src/store/unavailable.js';
import { dropDatabase, freshDatabaseUrl, freshSqlitePath } from '../helpers/databases.js';
import { uniqueUser } from '../helpers/gateway.js';
import { startStoppablePostgres, type StoppablePostgres } from '../helpers/stoppable-postgres.js';

const note = (userId: string, index: number): AppendInput => ({ userId, type: 'new_notification', payload: { index }, key: null });

/** What a caller sees: how the call settled, and for a failure its code, message and cause. */
async function settle(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
    return 'resolved';
  } catch (error) {
    return error;
  }
}

/** The guard's answer to an outage: Unavailable, the message REST shows, and the driver's error kept as its cause. */
function expectUnavailable(error: unknown, what: string): void {
  expect(error, what).toBeInstanceOf(HeraldError);
  const herald = error as HeraldError;
  expect({ what, code: herald.code, message: herald.message, status: herald.status }).toEqual({
    what,
    code: ErrorCode.Unavailable,
    message: 'The database is unavailable; retry later',
    status: 503,
  });
  expect(herald.cause, what).toBeInstanceOf(Error);
  expect(herald.cause, what).not.toBeInstanceOf(HeraldError);
  expect(isStoreUnavailable(herald.cause), what).toBe(true);
}

describe('guardOutages on SQLite', () => {
  const stores: Store[] = [];
  const open = async (path = freshSqlitePath()) => {
    const raw = createStore(path);
    stores.push(raw);
    await raw.migrate();
    return { raw, guarded: guardOutages(raw), path };
  };
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
  });

  it('turns a write lock held past the busy timeout (another process on the file) into Unavailable, then works again', async () => {
    const { guarded, path } = await open();
    const user = uniqueUser('busy');
    expect((await guarded.append([note(user, 1)])).map((event) => event.seq)).toEqual([1]);
    // A maintenance tool or a second Herald on the same file: it holds the write lock and does not let go.
    const other = new BetterSqlite3(path);
    try {
      other.exec('BEGIN IMMEDIATE');
      const failed = await settle(guarded.append([note(user, 2)]));
      expectUnavailable(failed, 'append');
      expect(((failed as HeraldError).cause as { code?: string }).code).toBe('SQLITE_BUSY');
      // Reads are not blocked by a writer in WAL mode: they go through untouched.
      expect(await guarded.headSeq(user)).toBe(1);
      other.exec('ROLLBACK');
    } finally {
      other.close();
    }
    expect((await guarded.append([note(user, 3)])).map((event) => event.seq)).toEqual([2]);
  });

  it('lets a constraint failure through unchanged: it is a defect, not an outage', async () => {
    const { raw, guarded } = await open();
    const bad = { ...note(uniqueUser('bad'), 1), type: null as unknown as 'task_update' };
    const direct = await settle(raw.append([bad]));
    const through = await settle(guarded.append([bad]));
    expect(direct).toMatchObject({ code: 'SQLITE_CONSTRAINT_NOTNULL' });
    expect(through).not.toBeInstanceOf(HeraldError);
    expect(through).toMatchObject({ name: (direct as Error).name, code: 'SQLITE_CONSTRAINT_NOTNULL', message: (direct as Error).message });
  });

  it('lets the error of a closed store through unchanged: using a closed store is a defect', async () => {
    const { raw, guarded } = await open();
    await guarded.close();
    const direct = await settle(raw.ping());
    const through = await settle(guarded.ping());
    expect(direct).toBeInstanceOf(Error);
    expect(through).not.toBeInstanceOf(HeraldError);
    expect(through).toEqual(direct);
  });
});

describe('guardOutages, whatever the store', () => {
  const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  const failing = (error: () => unknown): Store => {
    const reject = () => Promise.reject(error());
    return {
      migrate: reject,
      append: reject,
      markRead: reject,
      markAllRead: reject,
      eventsAfter: reject,
      headSeq: reject,
      listNotifications: reject,
      unreadCount: reject,
      changeNotifications: reject,
      recordAction: reject,
      eraseUser: reject,
      sweep: reject,
      streamBounds: reject,
      counts: reject,
      ping: reject,
      close: reject,
    };
  };
  const calls: Array<[string, (store: Store) => Promise<unknown>]> = [
    ['migrate', (store) => store.migrate()],
    ['append', (store) => store.append([note('u', 1)])],
    ['markRead', (store) => store.markRead('u', ['x'])],
    ['markAllRead', (store) => store.markAllRead('u')],
    ['eventsAfter', (store) => store.eventsAfter('u', 0, 10)],
    ['headSeq', (store) => store.headSeq('u')],
    ['listNotifications', (store) => store.listNotifications('u', { status: 'all', limit: 10 })],
    ['unreadCount', (store) => store.unreadCount('u')],
    ['changeNotifications', (store) => store.changeNotifications('u', 'archive', { ids: ['x'] })],
    ['recordAction', (store) => store.recordAction('u', 'x', 'a')],
    ['eraseUser', (store) => store.eraseUser('u')],
    ['sweep', (store) => store.sweep({ olderThan: '2026-01-01T00:00:00.000Z', expiredBefore: '2026-01-01T00:00:00.000Z', batch: 10 })],
    ['streamBounds', (store) => store.streamBounds('u')],
    ['counts', (store) => store.counts('u')],
    ['ping', (store) => store.ping()],
    ['close', (store) => store.close()],
  ];

  it.each(calls)('%s: an outage becomes Unavailable, anything else goes through as it is', async (what, call) => {
    expectUnavailable(await settle(call(guardOutages(failing(refused)))), what);
    const defect = new TypeError('not a function');
    expect(await settle(call(guardOutages(failing(() => defect))))).toBe(defect);
    const refusal = new HeraldError(ErrorCode.BadRequest, 'no');
    expect(await settle(call(guardOutages(failing(() => refusal))))).toBe(refusal);
  });

  it('wraps once: a guarded store guarded again is the same store, and an Unavailable is not wrapped in another', async () => {
    const once = guardOutages(failing(refused));
    expect(guardOutages(once)).toBe(once);
    const inner = await settle(once.headSeq('u'));
    const outer = await settle(guardOutages({ ...failing(() => inner), headSeq: () => Promise.reject(inner) }).headSeq('u'));
    expect(outer).toBe(inner);
  });
});

describe('guardOutages on PostgreSQL stopped mid-test', () => {
  let postgres: StoppablePostgres;
  let raw: Store;
  let guarded: Store;
  beforeAll(async () => {
    postgres = await startStoppablePostgres();
    raw = createStore(postgres.url);
    await raw.migrate();
    guarded = guardOutages(raw);
  });
  afterAll(async () => {
    await raw?.close();
    await postgres?.remove();
  });

  it('turns every call into Unavailable while the server is down, and works again once it is back', async () => {
    const user = uniqueUser('pg-outage');
    const [first] = await guarded.append([note(user, 1)]);
    await postgres.stop();
    // Every method a caller has: HTTP, Kafka ingestion and a replay all reach the store through one of these.
    const during: Array<[string, () => Promise<unknown>]> = [
      ['append', () => guarded.append([note(user, 2)])],
      ['eventsAfter', () => guarded.eventsAfter(user, 0, 10)],
      ['headSeq', () => guarded.headSeq(user)],
      ['markRead', () => guarded.markRead(user, [String(first!.payload['id'])])],
      ['markAllRead', () => guarded.markAllRead(user)],
      ['listNotifications', () => guarded.listNotifications(user, { status: 'all', limit: 10 })],
      ['unreadCount', () => guarded.unreadCount(user)],
      ['ping', () => guarded.ping()],
    ];
    for (const [what, call] of during) expectUnavailable(await settle(call()), what);

    await postgres.start();
    await guarded.ping();
    expect((await guarded.append([note(user, 3)])).map((event) => event.seq)).toEqual([2]);
    expect((await guarded.eventsAfter(user, 0, 10)).map((event) => event.payload['payload'])).toEqual([{ index: 1 }, { index: 3 }]);
  });
});

describe('guardOutages on PostgreSQL that answers', () => {
  let databaseUrl: string;
  let raw: Store;
  beforeAll(async () => {
    databaseUrl = await freshDatabaseUrl('postgres');
    raw = createStore(databaseUrl);
    await raw.migrate();
  });
  afterAll(async () => {
    await raw?.close();
    if (databaseUrl) await dropDatabase(databaseUrl);
  });

  it('lets a constraint failure through unchanged', async () => {
    const bad = { ...note(uniqueUser('pg-bad'), 1), payload: undefined as unknown as Record<string, unknown> };
    const direct = await settle(raw.append([bad]));
    const through = await settle(guardOutages(raw).append([bad]));
    expect(direct).toBeInstanceOf(Error);
    expect(isStoreUnavailable(direct)).toBe(false);
    expect(through).not.toBeInstanceOf(HeraldError);
    expect(through).toMatchObject({ code: (direct as { code?: string }).code, message: (direct as Error).message });
  });
});

describe('guardOutages passes every argument on', () => {
  it("gives eventsAfter the caller's page budget in bytes, so a replay's page is cut where StreamSync asked", async () => {
    const path = await freshSqlitePath();
    const store = guardOutages(createStore(path));
    await store.migrate();
    const user = uniqueUser('budget');
    // Three events of ~1 KB of payload each: a 1,500-byte budget ends the page after the second one.
    await store.append([1, 2, 3].map((n) => ({ userId: user, type: 'task_update' as const, payload: { n, text: 'x'.repeat(1000) }, key: null })));
    const page = await store.eventsAfter(user, 0, 500, 1500);
    expect(page.map((event) => event.seq)).toEqual([1, 2]);
    expect((await store.eventsAfter(user, 0, 500)).map((event) => event.seq)).toEqual([1, 2, 3]);
    await store.close();
  });
});
