import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { Retention } from '../../src/store/retention.js';
import type { AppendInput, Store, StoredEvent } from '../../src/store/store.js';
import type { InboxLimits } from '../../src/store/store.js';
import { TRIM_PER_APPEND } from '../../src/store/trim-plan.js';
import { databaseKinds } from '../helpers/databases.js';
import { lifetimeStore, miscountedUsers, notifications, range, seqsIn, streamRow, type LifetimeStore } from '../helpers/lifetime-db.js';

const seqs = (events: readonly StoredEvent[]) => events.map((event) => event.seq);
const allListed = (store: Store, userId: string) => store.listNotifications(userId, { status: 'all', archived: 'all', limit: 10_000 });
const titles = async (store: Store, userId: string) => (await allListed(store, userId)).items.map((item) => item.payload['title']);
const titled = (numbers: readonly number[]) => numbers.map((n) => `n${n}`);
const taskUpdates = (userId: string, count: number): AppendInput[] =>
  Array.from({ length: count }, (_, index) => ({ userId, type: 'task_update' as const, key: null, payload: { task: { n: index } } }));
const limits = (maxNotificationsPerUser: number, maxEventsPerUser = maxNotificationsPerUser): InboxLimits => ({
  maxNotificationsPerUser,
  maxEventsPerUser,
});

describe.each(databaseKinds)('HERALD_MAX_NOTIFICATIONS_PER_USER on %s', (kind) => {
  let t: LifetimeStore | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });
  async function storeWith(inboxLimits: InboxLimits): Promise<LifetimeStore> {
    t = await lifetimeStore(kind, inboxLimits);
    return t;
  }

  it('an append past the limit removes the oldest notifications and events, keeping the newest that many', async () => {
    const { store, db } = await storeWith(limits(5));
    const user = 'one-by-one';
    for (let n = 1; n <= 8; n++) {
      await store.append(notifications(user, 1, n));
      const kept = Math.min(n, 5);
      expect(await titles(store, user)).toEqual(titled(range(n - kept + 1, n).reverse()));
      expect(await streamRow(db, user)).toEqual({ last_seq: n, floor_seq: n - kept, notification_count: kept });
    }
    expect(await seqsIn(db, 'events', user)).toEqual(range(4, 8));
    expect(await store.streamBounds(user)).toEqual({ headSeq: 8, floorSeq: 3 });
    expect(seqs(await store.eventsAfter(user, 0, 100))).toEqual(range(4, 8));
    expect((await store.counts(user)).unread).toBe(5);
  });

  it('one batch far past the limit keeps the newest, for each of its users alone', async () => {
    const { store, db } = await storeWith(limits(5));
    const [big, small] = ['big-batch', 'small-batch'];
    const stored = await store.append([...notifications(big, 6), ...notifications(small, 3), ...notifications(big, 6, 7)]);
    // Every item is stored and delivered, with its seq; only what is past the limit is not kept.
    expect(seqs(stored.filter((event) => event.userId === big))).toEqual(range(1, 12));
    expect(await titles(store, big)).toEqual(titled(range(8, 12).reverse()));
    expect(await titles(store, small)).toEqual(titled([3, 2, 1]));
    expect(await streamRow(db, big)).toEqual({ last_seq: 12, floor_seq: 7, notification_count: 5 });
    expect(await streamRow(db, small)).toEqual({ last_seq: 3, floor_seq: 0, notification_count: 3 });
    expect(await miscountedUsers(db)).toEqual([]);
  });

  it('the inbox limit and the stream limit apply each on its own; a notification past it replays as deleted, at its seq', async () => {
    const { store, db } = await storeWith(limits(3, 10));
    const user = 'inbox-only';
    const stored = await store.append(notifications(user, 6));
    expect(await titles(store, user)).toEqual(titled([6, 5, 4]));
    expect(await streamRow(db, user)).toEqual({ last_seq: 6, floor_seq: 0, notification_count: 3 });
    const replay = await store.eventsAfter(user, 0, 100);
    expect(replay.map((event) => [event.seq, event.type])).toEqual([
      [1, 'notification_deleted'],
      [2, 'notification_deleted'],
      [3, 'notification_deleted'],
      [4, 'new_notification'],
      [5, 'new_notification'],
      [6, 'new_notification'],
    ]);
    expect(replay[0]!.payload).toEqual({ notification_ids: [stored[0]!.payload['id']] });
  });

  it('events that are not notifications count for the stream limit only', async () => {
    const { store, db } = await storeWith(limits(10, 3));
    const user = 'stream-only';
    await store.append(notifications(user, 2));
    await store.append(taskUpdates(user, 4));
    expect(await titles(store, user)).toEqual(titled([2, 1]));
    expect(await streamRow(db, user)).toEqual({ last_seq: 6, floor_seq: 3, notification_count: 2 });
    expect(seqs(await store.eventsAfter(user, 0, 100))).toEqual([4, 5, 6]);
    expect(await store.streamBounds(user)).toEqual({ headSeq: 6, floorSeq: 3 });
  });

  it('counts the notifications a user deleted, expired or lost to retention, so the next append removes no more than it must', async () => {
    const { store, db } = await storeWith(limits(5, 100));
    const user = 'counted';
    await store.append(notifications(user, 5));
    const [newest, second] = (await allListed(store, user)).items;
    await store.changeNotifications(user, 'delete', { ids: [newest!.id, second!.id] });
    expect(await streamRow(db, user)).toMatchObject({ notification_count: 3 });
    await store.append(notifications(user, 2, 6));
    expect(await titles(store, user)).toEqual(titled([7, 6, 3, 2, 1]));

    await db.run("update notifications set expires_at = '2001-01-01T00:00:00.000Z' where user_id = ? and seq = 1", [user]);
    await store.sweep({ olderThan: '2001-01-01T00:00:00.000Z', expiredBefore: new Date().toISOString(), batch: 10 });
    expect(await streamRow(db, user)).toMatchObject({ notification_count: 4 });
    await store.append(notifications(user, 1, 8));
    expect(await titles(store, user)).toEqual(titled([8, 7, 6, 3, 2]));
    await store.append(notifications(user, 1, 9));
    expect(await titles(store, user)).toEqual(titled([9, 8, 7, 6, 3]));
    expect(await miscountedUsers(db)).toEqual([]);
  });

  it('a user erased starts again from an empty inbox and count', async () => {
    const { store, db } = await storeWith(limits(3));
    const user = 'erased';
    await store.append(notifications(user, 5));
    expect(await store.eraseUser(user)).toBe(true);
    expect(await streamRow(db, user)).toBeUndefined();
    await store.append(notifications(user, 2, 6));
    expect(await titles(store, user)).toEqual(titled([7, 6]));
    expect(await streamRow(db, user)).toEqual({ last_seq: 2, floor_seq: 0, notification_count: 2 });
  });

  it(`removes at most TRIM_PER_APPEND (${TRIM_PER_APPEND}) rows of each table per append, after the limit was lowered`, async () => {
    const over = TRIM_PER_APPEND + 300;
    const { store, db, another } = await storeWith(limits(over + 100));
    const [user, bystander] = ['lowered', 'bystander'];
    await store.append(notifications(user, over));
    await store.append(notifications(bystander, 20));

    // The node restarted with a limit of 10.
    const lowered = await another(limits(10));
    await lowered.append(notifications(user, 1, over + 1));
    let head = over + 1;
    expect(await streamRow(db, user)).toEqual({ last_seq: head, floor_seq: TRIM_PER_APPEND, notification_count: head - TRIM_PER_APPEND });
    expect((await seqsIn(db, 'notifications', user))[0]).toBe(TRIM_PER_APPEND + 1);
    expect(await seqsIn(db, 'events', user)).toEqual(range(TRIM_PER_APPEND + 1, head));

    await lowered.append(notifications(user, 1, over + 2));
    head++;
    expect(await streamRow(db, user)).toEqual({ last_seq: head, floor_seq: head - 10, notification_count: 10 });
    expect(await seqsIn(db, 'notifications', user)).toEqual(range(head - 9, head));
    expect(await seqsIn(db, 'events', user)).toEqual(range(head - 9, head));
    expect(seqs(await lowered.eventsAfter(user, head - 10, 100))).toEqual(range(head - 9, head));
    // A user not appended to keeps what they had until their next append (or the sweep of old rows).
    expect(await streamRow(db, bystander)).toEqual({ last_seq: 20, floor_seq: 0, notification_count: 20 });
    expect(await miscountedUsers(db)).toEqual([]);
  });

  it('the sweep, given the limits, trims users past them who have not appended since, a batch at a time', async () => {
    const { store, db } = await storeWith(limits(100));
    const [idle, small] = ['idle', 'small'];
    await store.append(notifications(idle, 30));
    await store.append(notifications(small, 5));
    const sweep = (options: { limits?: InboxLimits }) =>
      store.sweep({ olderThan: '2001-01-01T00:00:00.000Z', expiredBefore: new Date().toISOString(), batch: 7, ...options });

    // Without the limits the sweep removes only what is old or expired.
    expect(await sweep({})).toEqual({ notifications: 0, events: 0 });
    expect(await streamRow(db, idle)).toEqual({ last_seq: 30, floor_seq: 0, notification_count: 30 });

    const results = [];
    for (let call = 0; call < 4; call++) results.push(await sweep({ limits: limits(10) }));
    expect(results).toEqual([
      { notifications: 7, events: 7 },
      { notifications: 7, events: 7 },
      { notifications: 6, events: 6 },
      { notifications: 0, events: 0 },
    ]);
    expect(await streamRow(db, idle)).toEqual({ last_seq: 30, floor_seq: 20, notification_count: 10 });
    expect(await seqsIn(db, 'notifications', idle)).toEqual(range(21, 30));
    expect(await seqsIn(db, 'events', idle)).toEqual(range(21, 30));
    expect(await titles(store, idle)).toEqual(titled(range(21, 30).reverse()));
    expect(await streamRow(db, small)).toEqual({ last_seq: 5, floor_seq: 0, notification_count: 5 });
    expect(await miscountedUsers(db)).toEqual([]);
  });

  it('Retention passes the limits to every sweep, so one sweepNow brings every user within them', async () => {
    const { store, db } = await storeWith(limits(100));
    const users = ['r1', 'r2', 'r3'];
    for (const [index, user] of users.entries()) await store.append(notifications(user, 5 + index * 4));
    const retention = new Retention({ store, logger: createLogger('silent'), retentionDays: 1, limits: limits(3, 4), batch: 2 });
    await retention.sweepNow();
    await retention.stop();
    for (const [index, user] of users.entries()) {
      const head = 5 + index * 4;
      expect(await streamRow(db, user)).toEqual({ last_seq: head, floor_seq: head - 4, notification_count: 3 });
      expect(await seqsIn(db, 'notifications', user)).toEqual(range(head - 2, head));
      expect(await seqsIn(db, 'events', user)).toEqual(range(head - 3, head));
    }
    expect(await miscountedUsers(db)).toEqual([]);
  });
});
