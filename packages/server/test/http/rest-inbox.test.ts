import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badTokens } from '../helpers/bad-tokens.js';
import { databaseKinds } from '../helpers/databases.js';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { httpRequest } from '../helpers/http-request.js';
import { TestClient } from '../helpers/ws-client.js';

describe.each(databaseKinds)('the user REST inbox (%s)', (kind) => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway(kind);
  });
  afterAll(() => gateway.close());

  /** Publishes `count` notifications for `userId` in one batch; returns their ids in publish (seq) order. */
  async function notify(userId: string, count: number, title = 'n'): Promise<string[]> {
    const items = Array.from({ length: count }, (_, index) => ({
      user_id: userId,
      type: 'new_notification',
      payload: { title: `${title}-${index}` },
    }));
    const response = await gateway.publish(items);
    expect(response.status).toBe(200);
    expect(response.body.stored).toBe(count);
    return response.body.events.map((event: { notification_id: string }) => event.notification_id);
  }

  /** Walks every page of GET /notifications with the given status and page size; returns the pages' ids. */
  async function walk(userId: string, status: string, limit: number): Promise<string[][]> {
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const query = new URLSearchParams({ status, limit: String(limit), ...(cursor !== null && { cursor }) });
      const response = await gateway.asUser(userId, `/notifications?${query}`);
      expect(response.status).toBe(200);
      pages.push(response.body.items.map((item: { id: string }) => item.id));
      cursor = response.body.next_cursor;
      expect(pages.length).toBeLessThan(50);
    } while (cursor !== null);
    return pages;
  }

  const count = async (userId: string): Promise<number> => {
    const response = await gateway.asUser(userId, '/notifications/unread-count');
    expect(response.status).toBe(200);
    return response.body.count;
  };

  const markRead = (userId: string, ids: string[]) =>
    gateway.asUser(userId, '/notifications/mark-read', { body: { notification_ids: ids } });

  it('lists a new user as an empty inbox with no next page and a zero count', async () => {
    const user = uniqueUser('empty');
    const response = await gateway.asUser(user, '/notifications');
    expect(response).toEqual({ status: 200, body: { items: [], next_cursor: null } });
    expect(await count(user)).toBe(0);
  });

  it("gives the unread count with the user's latest seq, so a client knows which stream events it already holds", async () => {
    const user = uniqueUser('count-seq');
    expect((await gateway.asUser(user, '/notifications/unread-count')).body).toEqual({ count: 0, seq: 0 });
    await gateway.publish([1, 2, 3].map((n) => ({ user_id: user, type: 'new_notification', payload: { n } })));
    await gateway.publish({ user_id: user, type: 'task_update', payload: { action: 'created', task: { id: 1 } } });
    expect((await gateway.asUser(user, '/notifications/unread-count')).body).toEqual({ count: 3, seq: 4 });
    expect((await gateway.asUser(user, '/notifications/mark-all-read', { body: {} })).status).toBe(200);
    expect((await gateway.asUser(user, '/notifications/unread-count')).body).toEqual({ count: 0, seq: 5 });
  });

  it('returns each stored notification with its id, status, timestamps and the producer payload', async () => {
    const user = uniqueUser('shape');
    const published = await gateway.publish({ user_id: user, type: 'new_notification', payload: { title: 'Hi', n: [1, 2] }, id: 'k-1' });
    const response = await gateway.asUser(user, '/notifications');
    expect(response.status).toBe(200);
    expect(response.body.items).toHaveLength(1);
    const [item] = response.body.items;
    // Every field of the record, the ones the producer did not set as null (and no actions as []).
    expect(item).toEqual({
      id: published.body.events[0].notification_id,
      key: 'k-1',
      category: null,
      status: 'unread',
      seen_at: null,
      read_at: null,
      archived_at: null,
      expires_at: null,
      created_at: expect.any(String),
      actions: [],
      actioned: null,
      payload: { title: 'Hi', n: [1, 2] },
    });
    expect(new Date(item.created_at).toISOString()).toBe(item.created_at);
  });

  it('walks every notification exactly once, newest first, under each status filter', async () => {
    const user = uniqueUser('walk');
    const ids = await notify(user, 11);
    // Task updates share the user's seq but are not notifications: the pages must skip them.
    await gateway.publish([1, 2].map((n) => ({ user_id: user, type: 'task_update', payload: { action: 'a', task: { n } } })));
    const more = await notify(user, 2, 'late');
    const all = [...ids, ...more];
    const read = [all[1]!, all[4]!, all[5]!, all[12]!];
    expect((await markRead(user, read)).body.notification_ids).toEqual(read);
    const newestFirst = (list: string[]) => [...list].reverse();

    for (const limit of [1, 4, 13, 100]) {
      const pages = await walk(user, 'all', limit);
      expect(pages.flat()).toEqual(newestFirst(all));
      // Every page but the last is full, and the last holds the rest: no empty page after a full one (13 of 13).
      const sizes = Array.from({ length: Math.ceil(all.length / limit) }, (_, page) => Math.min(limit, all.length - page * limit));
      expect({ limit, sizes: pages.map((page) => page.length) }).toEqual({ limit, sizes });
    }
    expect((await walk(user, 'read', 3)).flat()).toEqual(newestFirst(read));
    expect((await walk(user, 'unread', 3)).flat()).toEqual(newestFirst(all.filter((id) => !read.includes(id))));

    const readItems = (await gateway.asUser(user, '/notifications?status=read')).body.items;
    for (const item of readItems) {
      expect(item.status).toBe('read');
      expect(Date.parse(item.read_at)).toBeGreaterThanOrEqual(Date.parse(item.created_at));
    }
    const unreadItems = (await gateway.asUser(user, '/notifications?status=unread&limit=100')).body.items;
    expect(unreadItems.every((item: { status: string; read_at: unknown }) => item.status === 'unread' && item.read_at === null)).toBe(true);
  });

  it('defaults to 20 items of every status', async () => {
    const user = uniqueUser('default');
    const ids = await notify(user, 22);
    await markRead(user, [ids[21]!]);
    const first = await gateway.asUser(user, '/notifications');
    expect(first.body.items.map((item: { id: string }) => item.id)).toEqual([...ids].reverse().slice(0, 20));
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await gateway.asUser(user, `/notifications?cursor=${first.body.next_cursor}`);
    expect(second.body).toEqual({ items: [expect.objectContaining({ id: ids[1] }), expect.objectContaining({ id: ids[0] })], next_cursor: null });
  });

  it('counts unread notifications as they arrive and are read', async () => {
    const user = uniqueUser('count');
    const other = uniqueUser('count-other');
    const ids = await notify(user, 5);
    await notify(other, 2);
    expect(await count(user)).toBe(5);
    await markRead(user, ids.slice(0, 2));
    expect(await count(user)).toBe(3);
    await notify(user, 1);
    expect(await count(user)).toBe(4);
    expect(await count(other)).toBe(2);
  });

  it("marks only the caller's own unread notifications, and tells every tab which ones changed", async () => {
    const alice = uniqueUser('alice');
    const bob = uniqueUser('bob');
    const [a1, a2, a3] = await notify(alice, 3);
    const [b1] = await notify(bob, 1);
    const tab = await TestClient.open(gateway.wsUrl, await gateway.token(alice));
    await tab.waitForType('connected');

    // Bob's id, an unknown id and a repeat are left out without a word: the answer is only what changed.
    const first = await markRead(alice, [a1!, b1!, 'no-such-notification', a1!]);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ notification_ids: [a1] });
    // a1 is already read now: only a2 changes.
    const second = await markRead(alice, [a1!, a2!]);
    expect(second.body).toEqual({ notification_ids: [a2] });
    // Nothing of alice's changes: the same answer whether the ids are someone else's, unknown or already read.
    for (const ids of [[b1!], ['no-such-notification'], [a1!, a2!], []]) {
      expect((await markRead(alice, ids)).body).toEqual({ notification_ids: [] });
    }

    const events = await tab.waitForSeq(5);
    expect(events).toEqual([
      // With alice's counts right after each change.
      { type: 'notification_read', seq: 4, payload: { notification_ids: [a1], counts: { unread: 2, unseen: 2, categories: {} } } },
      { type: 'notification_read', seq: 5, payload: { notification_ids: [a2], counts: { unread: 1, unseen: 1, categories: {} } } },
    ]);
    const statuses = (await gateway.asUser(alice, '/notifications')).body.items.map((item: { id: string; status: string }) => [item.id, item.status]);
    expect(statuses).toEqual([
      [a3, 'unread'],
      [a2, 'read'],
      [a1, 'read'],
    ]);
    const bobs = (await gateway.asUser(bob, '/notifications')).body.items;
    expect(bobs).toEqual([expect.objectContaining({ id: b1, status: 'unread', read_at: null })]);
    // A last event proves the ignored requests pushed nothing to the tab.
    await markRead(alice, [a3!]);
    expect(await tab.waitForSeq(6)).toHaveLength(3);
    await tab.close();
  });

  it("does not let bob list, count or mark alice's notifications", async () => {
    const alice = uniqueUser('alice');
    const bob = uniqueUser('bob');
    const aliceIds = await notify(alice, 3);
    const [bobId] = await notify(bob, 1);

    const bobList = await gateway.asUser(bob, '/notifications?status=all&limit=100');
    expect(bobList.body.items.map((item: { id: string }) => item.id)).toEqual([bobId]);
    // Alice's cursor means nothing in bob's inbox beyond "older than": it shows only bob's own.
    const alicePage = await gateway.asUser(alice, '/notifications?limit=1');
    const bobWithAliceCursor = await gateway.asUser(bob, `/notifications?cursor=${alicePage.body.next_cursor}`);
    expect(alicePage.body.next_cursor).toEqual(expect.any(String));
    expect(bobWithAliceCursor.body.items.map((item: { id: string }) => item.id)).toEqual([bobId]);
    expect(await count(bob)).toBe(1);

    expect((await markRead(bob, aliceIds)).body).toEqual({ notification_ids: [] });
    expect(await count(alice)).toBe(3);
    expect((await gateway.asUser(bob, '/notifications/mark-all-read', { method: 'POST' })).body).toEqual({ changed: true });
    expect(await count(alice)).toBe(3);
    expect(await count(bob)).toBe(0);
  });

  it('marks everything read at once, pushes all_read, and reports when nothing changed', async () => {
    const user = uniqueUser('all');
    const other = uniqueUser('all-other');
    const ids = await notify(user, 4);
    await notify(other, 1);
    await markRead(user, [ids[0]!]);
    const tab = await TestClient.open(gateway.wsUrl, await gateway.token(user));
    await tab.waitForType('connected');

    const first = await gateway.asUser(user, '/notifications/mark-all-read', { method: 'POST' });
    expect(first).toEqual({ status: 200, body: { changed: true } });
    expect(await count(user)).toBe(0);
    const items = (await gateway.asUser(user, '/notifications')).body.items;
    expect(items).toHaveLength(4);
    expect(items.every((item: { status: string; read_at: string | null }) => item.status === 'read' && item.read_at !== null)).toBe(true);
    expect((await gateway.asUser(user, '/notifications?status=unread')).body.items).toEqual([]);
    expect(await count(other)).toBe(1);

    const second = await gateway.asUser(user, '/notifications/mark-all-read', { method: 'POST' });
    expect(second).toEqual({ status: 200, body: { changed: false } });
    // The tab saw exactly one all_read (seq 6: four notifications, one notification_read, then all_read).
    await notify(user, 1);
    const events = await tab.waitForSeq(7);
    expect(events.map((event) => [event.type, event.seq])).toEqual([
      ['all_read', 6],
      ['new_notification', 7],
    ]);
    expect(events[0]!.payload).toEqual({ counts: { unread: 0, unseen: 0, categories: {} } });
    await tab.close();
  });

  describe('authentication', () => {
    const routes = [
      { method: 'GET', path: '/notifications' },
      { method: 'GET', path: '/notifications/unread-count' },
      { method: 'POST', path: '/notifications/mark-read', body: { notification_ids: [] } },
      { method: 'POST', path: '/notifications/mark-all-read' },
    ];

    it.each(routes)('$method $path answers 401 to a missing, garbage, expired, wrongly signed or unsigned token', async (route) => {
      const user = uniqueUser('auth');
      const [id] = await notify(user, 1);
      for (const { name, token } of await badTokens(user)) {
        const response = await httpRequest(gateway.baseUrl, route.path, { method: route.method, bearer: token, body: route.body });
        expect({ name, status: response.status, error: response.body.error }).toEqual({ name, status: 401, error: 'unauthorized' });
        expect(response.body.message).toEqual(expect.any(String));
      }
      // A good token on the same route works, and nothing above touched the inbox.
      const ok = await httpRequest(gateway.baseUrl, route.path, { method: route.method, bearer: await gateway.token(user), body: route.body });
      expect(ok.status).toBe(200);
      const items = (await gateway.asUser(user, '/notifications')).body.items;
      expect(items.map((item: { id: string }) => item.id)).toEqual([id]);
    });

    it('refuses an Authorization header that is not a bearer token', async () => {
      const user = uniqueUser('basic');
      const token = await gateway.token(user);
      for (const authorization of [`Basic ${token}`, token, 'Bearer', `Bearer ${token} extra`]) {
        const response = await httpRequest(gateway.baseUrl, '/notifications', { headers: { authorization } });
        expect({ authorization, status: response.status }).toEqual({ authorization, status: 401 });
      }
    });
  });

  describe('bad requests name the field', () => {
    const cases: Array<{ name: string; path: string; body?: unknown; rawBody?: string; field: RegExp }> = [
      { name: 'notification_ids missing', path: '/notifications/mark-read', body: {}, field: /body must have notification_ids or filter/ },
      { name: 'notification_ids a string', path: '/notifications/mark-read', body: { notification_ids: 'abc' }, field: /body\.notification_ids must be array/ },
      { name: 'notification_ids a number', path: '/notifications/mark-read', body: { notification_ids: 5 }, field: /body\.notification_ids must be array/ },
      { name: 'notification_ids an object', path: '/notifications/mark-read', body: { notification_ids: { a: 1 } }, field: /body\.notification_ids must be array/ },
      { name: 'notification_ids numbers', path: '/notifications/mark-read', body: { notification_ids: [1, 2] }, field: /body\.notification_ids\.0 must be string/ },
      { name: 'notification_ids with null', path: '/notifications/mark-read', body: { notification_ids: ['a', null] }, field: /body\.notification_ids\.1 must be string/ },
      { name: 'notification_ids with an empty id', path: '/notifications/mark-read', body: { notification_ids: [''] }, field: /body\.notification_ids\.0 must NOT have fewer than 1 characters/ },
      { name: 'an extra field', path: '/notifications/mark-read', body: { notification_ids: [], foo: 1 }, field: /body\.foo is not allowed/ },
      { name: 'a body that is an array', path: '/notifications/mark-read', body: ['a'], field: /body must be object/ },
      { name: 'malformed JSON', path: '/notifications/mark-read', rawBody: '{"notification_ids": [', field: /body.*JSON|JSON.*body/i },
      { name: 'no body', path: '/notifications/mark-read', field: /body/i },
      { name: 'limit 0', path: '/notifications?limit=0', field: /querystring\.limit must be >= 1/ },
      { name: 'limit 101', path: '/notifications?limit=101', field: /querystring\.limit must be <= 100/ },
      { name: 'limit abc', path: '/notifications?limit=abc', field: /querystring\.limit must be integer/ },
      { name: 'limit 1.5', path: '/notifications?limit=1.5', field: /querystring\.limit must be integer/ },
      { name: 'cursor abc', path: '/notifications?cursor=abc', field: /querystring\.cursor must match/ },
      { name: 'cursor 0', path: '/notifications?cursor=0', field: /querystring\.cursor must match/ },
      { name: 'cursor negative', path: '/notifications?cursor=-5', field: /querystring\.cursor must match/ },
      { name: 'status bogus', path: '/notifications?status=bogus', field: /querystring\.status must be equal to one of the allowed values \(unread, read, all\)/ },
    ];

    it.each(cases)('$name → 400', async ({ path, body, rawBody, field }) => {
      const user = uniqueUser('bad');
      const method = path.startsWith('/notifications?') ? 'GET' : 'POST';
      const response = await httpRequest(gateway.baseUrl, path, { method, bearer: await gateway.token(user), body, rawBody });
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('bad_request');
      expect(response.body.message).toMatch(field);
    });

    it('leaves the inbox untouched after a rejected mark-read', async () => {
      const user = uniqueUser('untouched');
      const [id] = await notify(user, 1);
      const response = await httpRequest(gateway.baseUrl, '/notifications/mark-read', {
        bearer: await gateway.token(user),
        body: { notification_ids: id, foo: true },
      });
      expect(response.status).toBe(400);
      expect(await count(user)).toBe(1);
    });
  });
});
