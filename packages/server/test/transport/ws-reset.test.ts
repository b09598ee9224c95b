import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { databaseKinds } from '../helpers/databases.js';
import { startGateway, TEST_API_KEY, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { httpRequest } from '../helpers/http-request.js';
import { backdate, expireAt, LONG_AGO, range, rawDatabase, type RawDatabase } from '../helpers/lifetime-db.js';
import { TestClient, type Frame } from '../helpers/ws-client.js';

const CUT_OFF = '2010-01-01T00:00:00.000Z';
const seqs = (events: Frame[]) => events.map((event) => event.seq);
/** The frames that are neither stream events nor keepalive: connected, reset, errors. */
const control = (client: TestClient) => client.frames.filter((frame) => frame.seq === undefined && frame.type !== 'ping');

describe.each(databaseKinds)('reset frames (%s)', (kind) => {
  let gateway: TestGateway;
  let store: Store;
  let db: RawDatabase;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    gateway = await startGateway(kind, {
      wrapStore: (inner) => {
        store = inner;
        return inner;
      },
    });
    db = await rawDatabase(gateway.databaseUrl);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(async () => {
    await db.close();
    await gateway.close();
  });

  async function open(user: string, since?: number): Promise<TestClient> {
    const client = await TestClient.open(gateway.wsUrl, await gateway.token(user), since);
    clients.push(client);
    await client.waitForType('connected');
    return client;
  }

  async function publish(user: string, count: number): Promise<Array<{ seq: number; notification_id: string }>> {
    const items = Array.from({ length: count }, (_, index) => ({ user_id: user, type: 'new_notification', payload: { title: `t${index}` } }));
    const response = await gateway.publish(items);
    expect(response.status).toBe(200);
    return response.body.events;
  }

  /** Makes the user's first `count` notifications and events old, and sweeps them away. */
  async function retire(user: string, count: number): Promise<void> {
    await backdate(db, 'notifications', user, range(1, count));
    await backdate(db, 'events', user, range(1, count));
    await store.sweep({ olderThan: CUT_OFF, expiredBefore: new Date().toISOString(), batch: 100 });
    expect(await store.streamBounds(user)).toMatchObject({ floorSeq: count });
  }

  const eraseUser = (user: string) => httpRequest(gateway.baseUrl, `/users/${encodeURIComponent(user)}`, { method: 'DELETE', bearer: TEST_API_KEY });

  it.each([0, 1, 3])('a since (%i) below the floor gets connected at the head, then reset, no replay, then live events', async (since) => {
    const user = uniqueUser('below');
    await publish(user, 6);
    await retire(user, 4);
    const client = await open(user, since);
    await client.waitForType('reset');
    await publish(user, 1);
    await client.waitForSeq(7);
    expect(control(client)).toEqual([
      { type: 'connected', payload: { user_id: user, seq: 6, since: 6, ping_interval_ms: 30_000 } },
      { type: 'reset', payload: { seq: 6 } },
    ]);
    expect(seqs(client.events)).toEqual([7]);
  });

  it('a since at the floor or above replays what is kept, with no reset', async () => {
    const user = uniqueUser('at-floor');
    await publish(user, 6);
    await retire(user, 4);
    const tabs = [4, 5, 6].map(async (since) => ({ since, client: await open(user, since) }));
    const opened = await Promise.all(tabs);
    await publish(user, 1);
    for (const { since, client } of opened) {
      await client.waitForSeq(7);
      expect(control(client)).toEqual([{ type: 'connected', payload: { user_id: user, seq: 6, since, ping_interval_ms: 30_000 } }]);
      expect(seqs(client.events)).toEqual(range(since + 1, 7));
    }
  });

  it('a resume from below the floor gets reset and no replay; one from the floor replays', async () => {
    const user = uniqueUser('resume');
    await publish(user, 6);
    const client = await open(user);
    await retire(user, 4);

    client.send({ type: 'resume', payload: { since: 2 } });
    await client.waitForType('reset');
    await publish(user, 1);
    await client.waitForSeq(7);
    expect(control(client).slice(1)).toEqual([{ type: 'reset', payload: { seq: 6 } }]);
    expect(seqs(client.events)).toEqual([7]);

    client.send({ type: 'resume', payload: { since: 4 } });
    await client.waitFor((frames) => frames.filter((frame) => frame.seq !== undefined).length === 4);
    expect(seqs(client.events)).toEqual([7, 5, 6, 7]);
    expect(control(client)).toHaveLength(2);
  });

  it('after the user was erased, a since past the new head gets reset to 0, and the stream starts again at seq 1', async () => {
    const user = uniqueUser('erased');
    await publish(user, 3);
    expect((await eraseUser(user)).body).toEqual({ erased: true });
    const client = await open(user, 3);
    await client.waitForType('reset');
    await publish(user, 1);
    await client.waitForSeq(1);
    expect(control(client)).toEqual([
      { type: 'connected', payload: { user_id: user, seq: 0, since: 0, ping_interval_ms: 30_000 } },
      { type: 'reset', payload: { seq: 0 } },
    ]);
    expect(seqs(client.events)).toEqual([1]);
  });

  it('a tab the erasure did not close (a node that missed it) is reset by its next resume, and then gets the new seq 1', async () => {
    const user = uniqueUser('missed');
    await publish(user, 3);
    const client = await open(user, 0);
    await client.waitForSeq(3);
    // Erased in the store alone: no node is told, as if the message to this node was lost.
    expect(await store.eraseUser(user)).toBe(true);

    client.send({ type: 'resume', payload: { since: 3 } });
    await client.waitForType('reset');
    await publish(user, 1);
    await client.waitFor((frames) => frames.filter((frame) => frame.seq !== undefined).length === 4);
    expect(control(client).slice(1)).toEqual([{ type: 'reset', payload: { seq: 0 } }]);
    expect(seqs(client.events)).toEqual([1, 2, 3, 1]);
  });

  it('a deleted notification replays as notification_deleted at its own seq, with no gap', async () => {
    const user = uniqueUser('deleted');
    const published = await publish(user, 3);
    const deleted = published[1]!.notification_id;
    const response = await gateway.asUser(user, '/notifications/delete', { body: { notification_ids: [deleted] } });
    expect(response.body).toEqual({ notification_ids: [deleted] });

    const client = await open(user, 0);
    const events = await client.waitForSeq(4);
    expect(events.map((event) => [event.seq, event.type])).toEqual([
      [1, 'new_notification'],
      [2, 'notification_deleted'],
      [3, 'new_notification'],
      [4, 'notification_deleted'],
    ]);
    expect(events[1]).toEqual({ type: 'notification_deleted', seq: 2, payload: { notification_ids: [deleted] } });
    expect(events[3]!.payload).toMatchObject({ notification_ids: [deleted], counts: { unread: 2 } });
    expect(events[0]!.payload.id).toBe(published[0]!.notification_id);
    expect(control(client)).toHaveLength(1);
  });

  it('an expired notification, once swept, replays as notification_deleted at its seq', async () => {
    const user = uniqueUser('expired');
    const published = await publish(user, 3);
    await expireAt(db, user, [2], LONG_AGO);
    await store.sweep({ olderThan: LONG_AGO, expiredBefore: new Date().toISOString(), batch: 100 });
    const client = await open(user, 0);
    const events = await client.waitForSeq(3);
    expect(events.map((event) => [event.seq, event.type])).toEqual([
      [1, 'new_notification'],
      [2, 'notification_deleted'],
      [3, 'new_notification'],
    ]);
    expect(events[1]!.payload).toEqual({ notification_ids: [published[1]!.notification_id] });
  });
});

describe.each(databaseKinds)('reset frames past HERALD_MAX_NOTIFICATIONS_PER_USER (%s)', (kind) => {
  let gateway: TestGateway;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    gateway = await startGateway(kind, { env: { HERALD_MAX_NOTIFICATIONS_PER_USER: '3' } });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(() => gateway.close());

  it('a since from before the kept events gets reset; one from the floor replays the newest three', async () => {
    const user = uniqueUser('limited');
    const items = Array.from({ length: 5 }, (_, index) => ({ user_id: user, type: 'new_notification', payload: { title: `t${index + 1}` } }));
    expect((await gateway.publish(items)).body.stored).toBe(5);

    const reset = await TestClient.open(gateway.wsUrl, await gateway.token(user), 1);
    clients.push(reset);
    await reset.waitForType('reset');
    expect(reset.frames.slice(0, 2)).toEqual([
      { type: 'connected', payload: { user_id: user, seq: 5, since: 5, ping_interval_ms: 30_000 } },
      { type: 'reset', payload: { seq: 5 } },
    ]);

    const replay = await TestClient.open(gateway.wsUrl, await gateway.token(user), 2);
    clients.push(replay);
    const events = await replay.waitForSeq(5);
    expect(events.map((event) => [event.seq, event.type, event.payload.payload.title])).toEqual([
      [3, 'new_notification', 't3'],
      [4, 'new_notification', 't4'],
      [5, 'new_notification', 't5'],
    ]);
    expect(replay.frames.some((frame) => frame.type === 'reset')).toBe(false);
    const inbox = await gateway.asUser(user, '/notifications');
    expect(inbox.body.items.map((item: { payload: { title: string } }) => item.payload.title)).toEqual(['t5', 't4', 't3']);
  });
});
