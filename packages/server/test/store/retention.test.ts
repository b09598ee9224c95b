import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from 'pino';
import { createLogger } from '../../src/logger.js';
import { Retention } from '../../src/store/retention.js';
import type { Store, StoredEvent } from '../../src/store/store.js';
import { databaseKinds } from '../helpers/databases.js';
import {
  backdate,
  expireAt,
  lifetimeStore,
  LONG_AGO,
  longAgoPlus,
  miscountedUsers,
  notifications,
  range,
  seqsIn,
  streamRow,
  type LifetimeStore,
} from '../helpers/lifetime-db.js';

const DAY_MS = 24 * 3600 * 1000;
/** A cut-off between LONG_AGO and now: rows made old are before it, rows appended by the test after it. */
const CUT_OFF = '2010-01-01T00:00:00.000Z';
const now = () => new Date().toISOString();
const seqs = (events: readonly StoredEvent[]) => events.map((event) => event.seq);
const allListed = (store: Store, userId: string) => store.listNotifications(userId, { status: 'all', archived: 'all', limit: 1000 });
const titles = async (store: Store, userId: string) => (await allListed(store, userId)).items.map((item) => item.payload['title']);

/** Sweeps until a batch removes nothing; the results of every call, the last (empty) one included. */
async function sweepAll(store: Store, options: { olderThan: string; expiredBefore: string; batch: number }) {
  const results = [];
  for (;;) {
    const result = await store.sweep(options);
    results.push(result);
    if (result.notifications === 0 && result.events === 0) return results;
  }
}

describe.each(databaseKinds)('the retention sweep on %s', (kind) => {
  let t: LifetimeStore;
  beforeEach(async () => {
    t = await lifetimeStore(kind);
  });
  afterEach(() => t.cleanup());

  it('removes notifications and events created before olderThan, raises the floor, and keeps the rest and the count', async () => {
    const [alice, bob] = ['alice', 'bob'];
    await t.store.append(notifications(alice, 6));
    await t.store.append(notifications(bob, 2));
    await backdate(t.db, 'notifications', alice, range(1, 3));
    await backdate(t.db, 'events', alice, range(1, 3));

    expect(await t.store.sweep({ olderThan: CUT_OFF, expiredBefore: now(), batch: 100 })).toEqual({ notifications: 3, events: 3 });

    expect(await titles(t.store, alice)).toEqual(['n6', 'n5', 'n4']);
    expect(await t.store.streamBounds(alice)).toEqual({ headSeq: 6, floorSeq: 3 });
    expect(seqs(await t.store.eventsAfter(alice, 0, 100))).toEqual([4, 5, 6]);
    expect(await streamRow(t.db, alice)).toEqual({ last_seq: 6, floor_seq: 3, notification_count: 3 });
    expect((await t.store.counts(alice)).unread).toBe(3);
    // Nothing else was old.
    expect(await titles(t.store, bob)).toEqual(['n2', 'n1']);
    expect(await t.store.streamBounds(bob)).toEqual({ headSeq: 2, floorSeq: 0 });
    expect(await miscountedUsers(t.db)).toEqual([]);
    expect(await t.store.sweep({ olderThan: CUT_OFF, expiredBefore: now(), batch: 100 })).toEqual({ notifications: 0, events: 0 });
  });

  it('judges each table by its own age: an old notification goes while its event stays, and the other way round', async () => {
    const user = 'split';
    await t.store.append(notifications(user, 4));
    // seq 1: the notification is old, its event is not. seq 2: the event is old, its notification is not.
    await backdate(t.db, 'notifications', user, [1]);
    await backdate(t.db, 'events', user, [2]);

    expect(await t.store.sweep({ olderThan: CUT_OFF, expiredBefore: now(), batch: 100 })).toEqual({ notifications: 1, events: 2 });

    expect(await titles(t.store, user)).toEqual(['n4', 'n3', 'n2']);
    // The stream stays one unbroken run after the floor: removing seq 2 removed seq 1 before it, new as it was.
    expect(await t.store.streamBounds(user)).toEqual({ headSeq: 4, floorSeq: 2 });
    expect(seqs(await t.store.eventsAfter(user, 0, 100))).toEqual([3, 4]);
    expect(await streamRow(t.db, user)).toMatchObject({ notification_count: 3 });
  });

  it('an old notification whose event is kept replays as notification_deleted at the same seq', async () => {
    const user = 'replayed';
    const stored = await t.store.append(notifications(user, 3));
    await backdate(t.db, 'notifications', user, [2]);
    await t.store.sweep({ olderThan: CUT_OFF, expiredBefore: now(), batch: 100 });
    const events = await t.store.eventsAfter(user, 0, 100);
    expect(events.map((event) => [event.seq, event.type])).toEqual([
      [1, 'new_notification'],
      [2, 'notification_deleted'],
      [3, 'new_notification'],
    ]);
    expect(events[1]!.payload).toEqual({ notification_ids: [stored[1]!.payload['id']] });
    expect(JSON.parse(events[1]!.payloadJson!)).toEqual(events[1]!.payload);
  });

  it('removes notifications that expired before expiredBefore, and only those, and keeps their events', async () => {
    const user = 'expiring';
    const future = new Date(Date.now() + DAY_MS).toISOString();
    await t.store.append([
      { userId: user, type: 'new_notification', key: null, payload: { title: 'n1' }, expiresAt: future },
      { userId: user, type: 'new_notification', key: null, payload: { title: 'n2' }, expiresAt: future },
      { userId: user, type: 'new_notification', key: null, payload: { title: 'n3' } },
      { userId: user, type: 'new_notification', key: null, payload: { title: 'n4' }, expiresAt: future },
    ]);
    // Expired now, but hidden already: an expired notification is never listed or counted, swept or not.
    await expireAt(t.db, user, [1], longAgoPlus(1));
    await expireAt(t.db, user, [2], longAgoPlus(2));
    expect(await titles(t.store, user)).toEqual(['n4', 'n3']);
    expect((await t.store.counts(user)).unread).toBe(2);

    // Only the one that expired before expiredBefore goes.
    expect(await t.store.sweep({ olderThan: LONG_AGO, expiredBefore: longAgoPlus(2), batch: 100 })).toEqual({ notifications: 1, events: 0 });
    expect(await seqsIn(t.db, 'notifications', user)).toEqual([2, 3, 4]);
    expect(await t.store.sweep({ olderThan: LONG_AGO, expiredBefore: now(), batch: 100 })).toEqual({ notifications: 1, events: 0 });
    expect(await seqsIn(t.db, 'notifications', user)).toEqual([3, 4]);
    expect(await t.store.sweep({ olderThan: LONG_AGO, expiredBefore: now(), batch: 100 })).toEqual({ notifications: 0, events: 0 });

    expect(await streamRow(t.db, user)).toEqual({ last_seq: 4, floor_seq: 0, notification_count: 2 });
    expect((await t.store.eventsAfter(user, 0, 100)).map((event) => event.type)).toEqual([
      'notification_deleted',
      'notification_deleted',
      'new_notification',
      'new_notification',
    ]);
  });

  it('removes at most `batch` rows of each kind per call, the oldest first, until a call finds nothing', async () => {
    const users = ['u1', 'u2', 'u3'];
    // 25 old notifications over three users, their ages interleaved: u1's seq s is older than u2's seq s.
    for (const [index, user] of users.entries()) {
      const count = [10, 8, 7][index]!;
      await t.store.append(notifications(user, count));
      await t.store.append(notifications(user, 1, 100));
      const age = (seq: number) => longAgoPlus(seq * 10 + index);
      await backdate(t.db, 'notifications', user, range(1, count), age);
      await backdate(t.db, 'events', user, range(1, count), age);
    }

    const options = { olderThan: CUT_OFF, expiredBefore: now(), batch: 10 };
    const first = await t.store.sweep(options);
    expect(first).toEqual({ notifications: 10, events: 10 });
    // The ten oldest: seqs 1..3 of every user, and seq 4 of u1.
    expect(await seqsIn(t.db, 'notifications', 'u1')).toEqual(range(5, 11));
    expect(await seqsIn(t.db, 'notifications', 'u2')).toEqual(range(4, 9));
    expect(await seqsIn(t.db, 'notifications', 'u3')).toEqual(range(4, 8));
    expect(await t.store.streamBounds('u1')).toEqual({ headSeq: 11, floorSeq: 4 });
    expect(await t.store.streamBounds('u2')).toEqual({ headSeq: 9, floorSeq: 3 });
    expect(await miscountedUsers(t.db)).toEqual([]);

    const rest = await sweepAll(t.store, options);
    expect(rest).toEqual([
      { notifications: 10, events: 10 },
      { notifications: 5, events: 5 },
      { notifications: 0, events: 0 },
    ]);
    for (const [index, user] of users.entries()) {
      const head = [11, 9, 8][index]!;
      expect(await titles(t.store, user)).toEqual(['n100']);
      expect(await t.store.streamBounds(user)).toEqual({ headSeq: head, floorSeq: head - 1 });
      expect(seqs(await t.store.eventsAfter(user, 0, 100))).toEqual([head]);
    }
    expect(await miscountedUsers(t.db)).toEqual([]);
  });

  it('raises the floor to the newest old event, and keeps the count right beside deletes and appends', async () => {
    const user = 'floor';
    await t.store.append(notifications(user, 5));
    await backdate(t.db, 'events', user, range(1, 4));
    await t.store.sweep({ olderThan: CUT_OFF, expiredBefore: now(), batch: 100 });
    expect(await t.store.streamBounds(user)).toEqual({ headSeq: 5, floorSeq: 4 });
    const ids = (await allListed(t.store, user)).items.map((item) => item.id);
    await t.store.changeNotifications(user, 'delete', { ids: ids.slice(0, 2) });
    await t.store.append(notifications(user, 2, 6));
    await backdate(t.db, 'notifications', user, [1, 2, 3, 4, 5]);
    await backdate(t.db, 'events', user, [5]);
    expect(await t.store.sweep({ olderThan: CUT_OFF, expiredBefore: now(), batch: 100 })).toEqual({ notifications: 3, events: 1 });
    expect(await streamRow(t.db, user)).toEqual({ last_seq: 8, floor_seq: 5, notification_count: 2 });
    expect(await titles(t.store, user)).toEqual(['n7', 'n6']);
    expect(await miscountedUsers(t.db)).toEqual([]);
  });

  it('a far-future olderThan removes everything but keeps each stream row, its head and its count at zero', async () => {
    const user = 'everything';
    await t.store.append(notifications(user, 4));
    expect(await sweepAll(t.store, { olderThan: '9999-01-01T00:00:00.000Z', expiredBefore: now(), batch: 3 })).toEqual([
      { notifications: 3, events: 3 },
      { notifications: 1, events: 1 },
      { notifications: 0, events: 0 },
    ]);
    expect(await streamRow(t.db, user)).toEqual({ last_seq: 4, floor_seq: 4, notification_count: 0 });
    // The stream goes on from its head: no seq is given twice.
    const [next] = await t.store.append(notifications(user, 1, 5));
    expect(next!.seq).toBe(5);
    expect(seqs(await t.store.eventsAfter(user, 4, 100))).toEqual([5]);
  });
});

describe.each(databaseKinds)('Retention on %s', (kind) => {
  let t: LifetimeStore;
  beforeEach(async () => {
    t = await lifetimeStore(kind);
  });
  afterEach(() => t.cleanup());

  function logged(): { logger: Logger; lines: Array<Record<string, unknown>> } {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    return { logger: createLogger('info', sink), lines };
  }

  it('sweepNow removes, batch after batch, what is older than retentionDays and what has expired, and keeps the rest', async () => {
    const user = 'kept-days';
    await t.store.append(notifications(user, 12));
    const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString();
    // Seqs 1..7 are 3 days old; 8 is a little less than the 2 days kept; 9 expired a moment ago.
    await backdate(t.db, 'notifications', user, range(1, 7), () => daysAgo(3));
    await backdate(t.db, 'events', user, range(1, 7), () => daysAgo(3));
    await backdate(t.db, 'notifications', user, [8], () => daysAgo(1.9));
    await backdate(t.db, 'events', user, [8], () => daysAgo(1.9));
    await expireAt(t.db, user, [9], new Date(Date.now() - 1000).toISOString());
    const { logger, lines } = logged();
    const retention = new Retention({ store: t.store, logger, retentionDays: 2, batch: 2 });

    await retention.sweepNow();

    expect(await seqsIn(t.db, 'notifications', user)).toEqual([8, 10, 11, 12]);
    expect(await t.store.streamBounds(user)).toEqual({ headSeq: 12, floorSeq: 7 });
    expect(await streamRow(t.db, user)).toMatchObject({ notification_count: 4 });
    expect(lines.filter((line) => line['msg'] === 'removed old and expired notifications and events')).toEqual([
      expect.objectContaining({ notifications: 8, events: 7 }),
    ]);
    await retention.stop();
  });

  it('concurrent sweepNow calls share one sweep, and a stopped one sweeps no more', async () => {
    const user = 'shared';
    await t.store.append(notifications(user, 4));
    await backdate(t.db, 'notifications', user, range(1, 4));
    let sweeps = 0;
    const counting: Store = Object.assign(Object.create(t.store) as Store, {
      sweep: (options: Parameters<Store['sweep']>[0]) => {
        sweeps++;
        return t.store.sweep(options);
      },
    });
    const retention = new Retention({ store: counting, logger: logged().logger, retentionDays: 1, batch: 1 });
    await Promise.all([retention.sweepNow(), retention.sweepNow(), retention.sweepNow()]);
    // Four batches of one and the empty one that ends the sweep: one sweep, not three.
    expect(sweeps).toBe(5);
    expect(await seqsIn(t.db, 'notifications', user)).toEqual([]);

    await retention.stop();
    await t.store.append(notifications(user, 1, 5));
    await backdate(t.db, 'notifications', user, [5]);
    await retention.sweepNow();
    expect(sweeps).toBe(5);
    expect(await seqsIn(t.db, 'notifications', user)).toEqual([5]);
  });

  it('a sweep that fails is logged as a warning and does not reject', async () => {
    const { logger, lines } = logged();
    const failing: Store = Object.assign(Object.create(t.store) as Store, {
      sweep: () => Promise.reject(new Error('the database is down')),
    });
    const retention = new Retention({ store: failing, logger, retentionDays: 1 });
    await expect(retention.sweepNow()).resolves.toBeUndefined();
    expect(lines).toEqual([expect.objectContaining({ level: 40, err: expect.objectContaining({ message: 'the database is down' }) })]);
    await retention.stop();
  });
});

describe('sweeps of two nodes on one PostgreSQL database, beside appends', () => {
  let t: LifetimeStore;
  beforeEach(async () => {
    t = await lifetimeStore('postgres');
  });
  afterEach(() => t.cleanup());

  it('remove every old row exactly once, never deadlock, and leave every stream an unbroken run with the counts right', async () => {
    const users = Array.from({ length: 6 }, (_, index) => `racer-${index}`);
    const OLD_PER_USER = 40;
    for (const user of users) await t.store.append(notifications(user, OLD_PER_USER));
    await t.db.run('update notifications set created_at = ?', [LONG_AGO]);
    // Events aged in seq order, so each batch's newest candidate per user is the end of what is old.
    await t.db.run(`update events set created_at = timestamptz '${LONG_AGO}' + seq * interval '1 second'`);
    const [nodeA, nodeB, producer] = [t.store, await t.another(), await t.another()];

    const options = { olderThan: CUT_OFF, expiredBefore: now(), batch: 7 };
    const oldRowsLeft = async () =>
      (await t.db.rows('select 1 from notifications where created_at < ? union all select 1 from events where created_at < ?', [CUT_OFF, CUT_OFF]))
        .length > 0;
    // Each node sweeps until nothing old is left, not until its own batch finds nothing (which it does whenever the
    // other node took its candidates first), so that both keep sweeping side by side to the end.
    const sweeper = async (store: Store) => {
      const removed = { notifications: 0, events: 0, calls: 0 };
      for (;;) {
        const result = await store.sweep(options);
        removed.calls++;
        removed.notifications += result.notifications;
        removed.events += result.events;
        if (result.notifications === 0 && result.events === 0 && !(await oldRowsLeft())) return removed;
      }
    };
    // Each round appends to every user, in a different order each time (the append locks in id order anyway).
    const appended = new Map<string, number[]>(users.map((user) => [user, []]));
    const appender = async () => {
      for (let round = 0; round < 15; round++) {
        const order = round % 2 === 0 ? users : [...users].reverse();
        const stored = await producer.append(order.flatMap((user) => notifications(user, 1, 1000 + round)));
        for (const event of stored) appended.get(event.userId)!.push(event.seq);
      }
    };
    const [a, b] = await Promise.all([sweeper(nodeA), sweeper(nodeB), appender()]);

    expect(a.notifications + b.notifications).toBe(users.length * OLD_PER_USER);
    expect(a.events + b.events).toBe(users.length * OLD_PER_USER);
    expect(a.calls).toBeGreaterThan(1);
    expect(b.calls).toBeGreaterThan(1);
    for (const user of users) {
      // The appends got the next seqs with no gap and no repeat, whatever was swept meanwhile.
      expect(appended.get(user)).toEqual(range(OLD_PER_USER + 1, OLD_PER_USER + 15));
      expect(await streamRow(t.db, user)).toEqual({ last_seq: OLD_PER_USER + 15, floor_seq: OLD_PER_USER, notification_count: 15 });
      expect(await seqsIn(t.db, 'events', user)).toEqual(range(OLD_PER_USER + 1, OLD_PER_USER + 15));
      expect(seqs(await nodeB.eventsAfter(user, OLD_PER_USER, 100))).toEqual(range(OLD_PER_USER + 1, OLD_PER_USER + 15));
      expect((await nodeA.counts(user)).unread).toBe(15);
    }
    expect(await miscountedUsers(t.db)).toEqual([]);
  });
});
