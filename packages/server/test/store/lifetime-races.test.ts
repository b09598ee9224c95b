// Races of the lifetime rules with the user's own writes: a sweep whose event candidates were read before the user
// was erased and published to again must leave the new stream alone (it once removed it and raised the floor past
// the head), and an expired notification is never changed, by mark-all-read either.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseKinds } from '../helpers/databases.js';
import { backdate, expireAt, lifetimeStore, LONG_AGO, notifications, range, rawDatabase, seqsIn, streamRow, type LifetimeStore } from '../helpers/lifetime-db.js';

describe('a sweep racing an erasure and a new publish (postgres)', () => {
  let t: LifetimeStore;
  beforeEach(async () => {
    t = await lifetimeStore(databaseKinds[1]);
  });
  afterEach(() => t.cleanup());

  it('leaves the new stream of an erased user alone', async () => {
    const user = 'erased-meanwhile';
    await t.store.append(notifications(user, 5));
    await backdate(t.db, 'events', user, range(1, 5));
    // Another session holds the user's stream row, as a writer of the user does: the sweep reads its candidates
    // (seqs 1..5) without a lock, then waits for the row.
    const blocker = await rawDatabase(t.url);
    await blocker.run('begin');
    await blocker.run('select 1 from user_streams where user_id = ? for update', [user]);
    const sweeping = t.store.sweep({ olderThan: '2010-01-01T00:00:00.000Z', expiredBefore: new Date().toISOString(), batch: 100 });
    for (;;) {
      const waiting = await t.db.rows("select 1 from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()");
      if (waiting.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Meanwhile the user is erased (DELETE /users/{id}) and published to again: a new stream, seqs 1 and 2.
    await blocker.run('delete from notifications where user_id = ?', [user]);
    await blocker.run('delete from events where user_id = ?', [user]);
    await blocker.run('delete from user_streams where user_id = ?', [user]);
    // The new stream, written as an append writes it, committed before the sweep goes on.
    await blocker.run('insert into user_streams (user_id, last_seq) values (?, 2)', [user]);
    for (const seq of [1, 2]) {
      await blocker.run(
        "insert into events (user_id, seq, type, key, notification_id, payload, payload_bytes, created_at) values (?, ?, 'task_update', null, null, '{}'::jsonb, 2, now())",
        [user, seq],
      );
    }
    await blocker.run('commit');
    const swept = await sweeping;
    await blocker.close();
    expect(swept.events).toBe(0);
    expect(await seqsIn(t.db, 'events', user)).toEqual([1, 2]);
    expect(await streamRow(t.db, user)).toEqual({ last_seq: 2, floor_seq: 0, notification_count: 0 });
  });
});

describe.each(databaseKinds)('expired notifications are never changed (%s)', (kind) => {
  let t: LifetimeStore;
  beforeEach(async () => {
    t = await lifetimeStore(kind);
  });
  afterEach(() => t.cleanup());

  it('mark-all-read leaves an expired notification alone and reports no change', async () => {
    const user = 'expired-read';
    await t.store.append(notifications(user, 1));
    await expireAt(t.db, user, [1], LONG_AGO);
    expect(await t.store.markAllRead(user)).toBeNull();
    expect(await t.db.rows('select status from notifications where user_id = ?', [user])).toEqual([{ status: 'unread' }]);
  });
});
