import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../helpers/databases.js';
import { CLUSTER_API_KEY, clusterUser, connectTab, TestCluster, type ClusterNode } from '../helpers/cluster.js';
import { startGateway, TEST_API_KEY, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { httpRequest } from '../helpers/http-request.js';
import { rawDatabase, streamRow, type RawDatabase } from '../helpers/lifetime-db.js';
import { TestClient } from '../helpers/ws-client.js';
import { acceptedIdentifiers, refusedIdentifiers } from './identifier-forms.js';

/**
 * A user id as one path segment, percent-encoded as UTF-8; a lone surrogate, which UTF-8 cannot hold, as the three
 * bytes a careless encoder (WTF-8) writes for it, since encodeURIComponent refuses to encode it at all.
 */
function pathSegment(userId: string): string {
  let encoded = '';
  for (const char of userId) {
    const unit = char.codePointAt(0)!;
    if (unit >= 0xd800 && unit <= 0xdfff) {
      const bytes = [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)];
      encoded += bytes.map((byte) => `%${byte.toString(16).toUpperCase()}`).join('');
    } else {
      encoded += encodeURIComponent(char);
    }
  }
  return encoded;
}

/** The rows the database holds for the user, table by table. */
async function rowsOf(db: RawDatabase, userId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of ['notifications', 'events', 'user_streams']) {
    const [row] = await db.rows<{ n: number }>(`select count(*) as n from ${table} where user_id = ?`, [userId]);
    counts[table] = Number(row!.n);
  }
  return counts;
}

describe.each(databaseKinds)('DELETE /users/{user_id} (%s)', (kind) => {
  let gateway: TestGateway;
  let db: RawDatabase;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    gateway = await startGateway(kind);
    db = await rawDatabase(gateway.databaseUrl);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(async () => {
    await db.close();
    await gateway.close();
  });

  /** DELETE `path` with the publish key, or with `as.bearer` (none when it is undefined). */
  const erase = (path: string, as: { bearer: string | undefined } = { bearer: TEST_API_KEY }) =>
    httpRequest(gateway.baseUrl, path, { method: 'DELETE', bearer: as.bearer });

  async function tab(user: string): Promise<TestClient> {
    const client = await TestClient.open(gateway.wsUrl, await gateway.token(user));
    clients.push(client);
    await client.waitForType('connected');
    return client;
  }

  /** Three notifications with idempotency keys, one task update, and one notification read: a user with a bit of everything. */
  async function populate(user: string): Promise<string[]> {
    const published = await gateway.publish([
      { user_id: user, id: 'k1', type: 'new_notification', payload: { title: 'one' } },
      { user_id: user, id: 'k2', type: 'new_notification', payload: { title: 'two' }, category: 'billing' },
      { user_id: user, id: 'k3', type: 'task_update', payload: { action: 'moved', task: { id: 't1' } } },
      { user_id: user, type: 'new_notification', payload: { title: 'three' }, ttl_s: 3600 },
    ]);
    expect(published.body.stored).toBe(4);
    const ids = published.body.events.flatMap((event: { notification_id?: string }) => event.notification_id ?? []);
    expect((await gateway.asUser(user, '/notifications/mark-read', { body: { notification_ids: [ids[0]] } })).status).toBe(200);
    return ids;
  }

  it('answers {erased: true}, removes every row of the user, closes their tabs with 4004 and no one else', async () => {
    const [user, other] = [uniqueUser('erase'), uniqueUser('keep')];
    await populate(user);
    await populate(other);
    const tabs = [await tab(user), await tab(user)];
    const otherTab = await tab(other);
    expect(await rowsOf(db, user)).toEqual({ notifications: 3, events: 5, user_streams: 1 });

    const response = await erase(`/users/${user}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ erased: true });
    for (const client of tabs) expect(await client.closed).toEqual({ code: 4004, reason: 'the user was erased' });

    expect(await rowsOf(db, user)).toEqual({ notifications: 0, events: 0, user_streams: 0 });
    expect((await gateway.asUser(user, '/notifications')).body).toMatchObject({ items: [], next_cursor: null });
    expect((await gateway.asUser(user, '/notifications/counts')).body).toMatchObject({ unread: 0, unseen: 0, categories: {} });
    // The other user lost nothing and still hears their stream.
    expect(await rowsOf(db, other)).toEqual({ notifications: 3, events: 5, user_streams: 1 });
    await gateway.publish({ user_id: other, type: 'new_notification', payload: { title: 'after' } });
    await otherTab.waitForSeq(6);
    expect(await streamRow(db, other)).toEqual({ last_seq: 6, floor_seq: 0, notification_count: 4 });
  });

  it('frees the idempotency keys: the same ids are stored again, from seq 1, and a tab reconnecting starts there', async () => {
    const user = uniqueUser('reuse');
    await populate(user);
    expect((await erase(`/users/${user}`)).body).toEqual({ erased: true });

    const client = await tab(user);
    const again = await gateway.publish([
      { user_id: user, id: 'k1', type: 'new_notification', payload: { title: 'one again' } },
      { user_id: user, id: 'k3', type: 'task_update', payload: { action: 'moved', task: { id: 't1' } } },
    ]);
    expect(again.body).toMatchObject({ accepted: 2, stored: 2 });
    expect(again.body.events.map((event: { seq: number }) => event.seq)).toEqual([1, 2]);
    const events = await client.waitForSeq(2);
    expect(events.map((event) => [event.seq, event.type])).toEqual([
      [1, 'new_notification'],
      [2, 'task_update'],
    ]);
    expect(client.frames[0]).toMatchObject({ type: 'connected', payload: { seq: 0 } });
    // A repeat of the new key is a repeat again.
    expect((await gateway.publish({ user_id: user, id: 'k1', type: 'new_notification', payload: {} })).body.stored).toBe(0);
    expect(await streamRow(db, user)).toEqual({ last_seq: 2, floor_seq: 0, notification_count: 1 });
  });

  it('answers {erased: false} for a user with nothing stored, and for one erased already', async () => {
    const user = uniqueUser('nobody');
    expect(await erase(`/users/${user}`)).toMatchObject({ status: 200, body: { erased: false } });
    await gateway.publish({ user_id: user, type: 'task_update', payload: { action: 'x' } });
    expect((await erase(`/users/${user}`)).body).toEqual({ erased: true });
    expect((await erase(`/users/${user}`)).body).toEqual({ erased: false });
  });

  const erasable = [
    ...acceptedIdentifiers.filter((form) =>
      ['plain', 'one character', 'an emoji (a surrogate pair)', 'U+FFFD alone', 'quotes and a backslash', 'a space', 'U+007F (DEL, not a C0 control)'].includes(
        form.name,
      ),
    ),
    { name: '100 characters', value: 'y'.repeat(100) },
  ];
  it.each(erasable)('erases the user $name, given percent-encoded', async ({ value }) => {
    await gateway.publish({ user_id: value, type: 'new_notification', payload: { title: 'x' } });
    const client = await tab(value);
    expect((await erase(`/users/${pathSegment(value)}`)).body).toEqual({ erased: true });
    expect((await client.closed).code).toBe(4004);
    expect(await rowsOf(db, value)).toEqual({ notifications: 0, events: 0, user_streams: 0 });
  });

  describe('refusals, which erase nothing', () => {
    const victim = uniqueUser('victim');
    beforeAll(async () => {
      await gateway.publish({ user_id: victim, type: 'new_notification', payload: { title: 'keep me' } });
    });
    afterEach(async () => {
      expect(await rowsOf(db, victim)).toEqual({ notifications: 1, events: 1, user_streams: 1 });
    });

    const forms = refusedIdentifiers.filter((form) => form.name !== 'empty');
    it.each(forms)('400 for a user id that is $name', async ({ value }) => {
      const response = await erase(`/users/${pathSegment(value)}`);
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error: 'bad_request', message: expect.any(String) });
    });

    it('400 for an empty user id', async () => {
      const response = await erase('/users/');
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: 'bad_request' });
    });

    it.each([
      ['no Authorization header', undefined],
      ['a wrong key', `${TEST_API_KEY}-not`],
      ["a user's token instead of the key", 'token'],
    ])('401 with %s', async (_name, bearer) => {
      const key = bearer === 'token' ? await gateway.token(victim) : bearer;
      const response = await erase(`/users/${victim}`, { bearer: key });
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ error: 'unauthorized' });
    });

    it.each(['?force=true', '?user_id=x', '?cascade'])('400 for an unknown query parameter (%s)', async (query) => {
      const response = await erase(`/users/${victim}${query}`);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: 'bad_request' });
    });
  });
});

describe('DELETE /users/{user_id} in a cluster of two nodes over Redis', () => {
  let cluster: TestCluster;
  let nodes: ClusterNode[];
  const clients: TestClient[] = [];
  beforeAll(async () => {
    cluster = await TestCluster.create();
    nodes = await cluster.start(2);
  }, 60_000);
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(() => cluster.remove());

  async function tab(node: ClusterNode, user: string): Promise<TestClient> {
    const client = await connectTab(node.wsUrl, await cluster.token(user));
    clients.push(client);
    return client;
  }

  it("closes the user's tabs with 4004 on both nodes, whichever node was asked, and leaves other users' tabs open", async () => {
    const [user, other] = [clusterUser('erase'), clusterUser('keep')];
    const [a, b] = nodes as [ClusterNode, ClusterNode];
    expect((await cluster.publish(a, [user, other].map((id) => ({ user_id: id, type: 'new_notification', payload: { title: 'x' } })))).status).toBe(200);
    const userTabs = [await tab(a, user), await tab(b, user), await tab(b, user)];
    const otherTabs = [await tab(a, other), await tab(b, other)];

    const response = await httpRequest(a.url, `/users/${user}`, { method: 'DELETE', bearer: CLUSTER_API_KEY });
    expect(response).toMatchObject({ status: 200, body: { erased: true } });
    for (const client of userTabs) expect(await client.closed).toEqual({ code: 4004, reason: 'the user was erased' });

    // Gone for every node: both read the one database.
    for (const node of nodes) {
      const inbox = await httpRequest(node.url, '/notifications', { bearer: await cluster.token(user) });
      expect(inbox.body.items).toEqual([]);
    }
    // The other user's tabs were not closed: they hear the next event on both nodes.
    await cluster.publish(b, { user_id: other, type: 'new_notification', payload: { title: 'still here' } });
    for (const client of otherTabs) await client.waitForSeq(2);

    // A tab of the user opened afterwards on the other node starts the new stream at seq 1.
    const fresh = await tab(b, user);
    expect(fresh.frames[0]).toMatchObject({ type: 'connected', payload: { seq: 0 } });
    await cluster.publish(a, { user_id: user, type: 'new_notification', payload: { title: 'anew' } });
    expect((await fresh.waitForSeq(1)).map((event) => event.seq)).toEqual([1]);
  });
});
