import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../helpers/databases.js';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { TestClient } from '../helpers/ws-client.js';

/**
 * User A tries every route to user B's inbox. Each test first shows that B's data is there (so the refusal is
 * not an empty inbox), then that nothing of it reaches A and nothing A does changes it.
 */
describe.each(databaseKinds)('isolation between users (%s)', (kind) => {
  let gateway: TestGateway;
  let alice: string;
  let bob: string;
  let bobIds: string[];
  let aliceIds: string[];

  beforeAll(async () => {
    gateway = await startGateway(kind);
    alice = uniqueUser('alice');
    bob = uniqueUser('bob');
    // Interleaved, so that seq numbers and cursors of the two users overlap.
    const published = await gateway.publish(
      Array.from({ length: 6 }, (_, n) => ({ user_id: n % 2 === 0 ? bob : alice, type: 'new_notification', payload: { n } })),
    );
    const idsOf = (user: string) =>
      published.body.events.filter((event: any) => event.user_id === user).map((event: any) => event.notification_id as string);
    bobIds = idsOf(bob);
    aliceIds = idsOf(alice);
  });
  afterAll(() => gateway.close());

  const bobUnread = async () => (await gateway.asUser(bob, '/notifications/unread-count')).body.count;

  it("lists and counts only the caller's own notifications, whatever cursor or filter A crafts", async () => {
    expect(await bobUnread()).toBe(3);
    // A's seqs are 1, 2, 3 as B's are; a cursor is "older than this seq" within A's inbox only.
    const [a1, a2, a3] = aliceIds;
    const expected: Array<[string, string[], string | null]> = [
      ['', [a3!, a2!, a1!], null],
      ['?status=unread', [a3!, a2!, a1!], null],
      ['?status=read', [], null],
      ['?status=all&limit=100', [a3!, a2!, a1!], null],
      ['?cursor=1', [], null],
      ['?cursor=3', [a2!, a1!], null],
      ['?cursor=4', [a3!, a2!, a1!], null],
      ['?cursor=999999', [a3!, a2!, a1!], null],
      ['?limit=1', [a3!], '3'],
      ['?limit=1&cursor=3', [a2!], '2'],
    ];
    for (const [query, ids, nextCursor] of expected) {
      const page = await gateway.asUser(alice, `/notifications${query}`);
      expect({ query, status: page.status, ids: page.body.items.map((item: { id: string }) => item.id), next: page.body.next_cursor }).toEqual({
        query,
        status: 200,
        ids,
        next: nextCursor,
      });
    }
    expect((await gateway.asUser(alice, '/notifications/unread-count')).body).toEqual({ count: 3, seq: 3 });
  });

  it("cannot mark B's notifications read, alone or mixed with A's own, and B's tabs hear nothing", async () => {
    const bobTab = await TestClient.open(gateway.wsUrl, await gateway.token(bob));
    await bobTab.waitForType('connected');

    const foreign = await gateway.asUser(alice, '/notifications/mark-read', { body: { notification_ids: bobIds } });
    expect(foreign).toEqual({ status: 200, body: { notification_ids: [] } });
    const mixed = await gateway.asUser(alice, '/notifications/mark-read', {
      body: { notification_ids: [bobIds[0], aliceIds[0], bobIds[1], `${bobIds[2]}`.toUpperCase(), ' ' + bobIds[2]] },
    });
    expect(mixed).toEqual({ status: 200, body: { notification_ids: [aliceIds[0]] } });
    expect((await gateway.asUser(alice, '/notifications/mark-all-read', { body: {} })).status).toBe(200);

    expect(await bobUnread()).toBe(3);
    // A marker after A's actions: B's tab gets its own next event and nothing before it.
    await gateway.publish({ user_id: bob, type: 'task_update', payload: { action: 'marker', task: {} } });
    await bobTab.waitFor((frames) => frames.some((frame) => frame.payload?.action === 'marker'));
    expect(bobTab.events.map((frame) => frame.type)).toEqual(['task_update']);
    await bobTab.close();
  });

  it("never sends B's events to A's socket, whatever since or resume A asks for", async () => {
    const aliceTab = await TestClient.open(gateway.wsUrl, await gateway.token(alice), 0);
    await aliceTab.waitForType('connected');
    aliceTab.send({ type: 'resume', payload: { since: 0 } });
    aliceTab.send({ type: 'resume', payload: { since: 2 } });
    await gateway.publish({ user_id: bob, type: 'new_notification', payload: { secret: 'for bob' } });
    await gateway.publish({ user_id: alice, type: 'task_update', payload: { action: 'marker', task: {} } });
    await aliceTab.waitFor((frames) => frames.some((frame) => frame.payload?.action === 'marker'));
    const seen = JSON.stringify(aliceTab.frames);
    expect(seen).not.toContain('for bob');
    for (const id of bobIds) expect(seen).not.toContain(id);
    await aliceTab.close();
  });

  it('refuses with 400 any user id or other parameter a request adds, on every user route, and changes nothing', async () => {
    const caller = uniqueUser('caller');
    const victim = uniqueUser('victim');
    const published = await gateway.publish(
      [caller, victim, caller, victim, caller].map((user_id, n) => ({ user_id, type: 'new_notification', payload: { n } })),
    );
    const idsOf = (user: string) =>
      published.body.events.filter((event: any) => event.user_id === user).map((event: any) => event.notification_id as string);
    const [callerIds, victimIds] = [idsOf(caller), idsOf(victim)];
    const inbox = async (user: string) => ({
      ids: (await gateway.asUser(user, '/notifications?limit=100')).body.items.map((item: { id: string }) => item.id),
      unread: (await gateway.asUser(user, '/notifications/unread-count')).body,
    });
    expect(await inbox(caller)).toEqual({ ids: [...callerIds].reverse(), unread: { count: 3, seq: 3 } });
    expect(await inbox(victim)).toEqual({ ids: [...victimIds].reverse(), unread: { count: 2, seq: 2 } });

    const routes = [
      { path: '/notifications', body: undefined },
      { path: '/notifications/unread-count', body: undefined },
      { path: '/notifications/mark-read', body: { notification_ids: victimIds } },
      { path: '/notifications/mark-all-read', body: {} },
    ];
    // [query, the parameter the message names]
    const queries: Array<[string, string]> = [
      [`user_id=${victim}`, 'user_id'],
      [`userId=${victim}`, 'userId'],
      [`user=${victim}`, 'user'],
      [`sub=${victim}`, 'sub'],
      [`user_id=${victim}&user_id=${caller}`, 'user_id'],
      [`user_id=${caller}&user_id=${victim}`, 'user_id'],
      [`user%5Fid=${victim}`, 'user_id'],
      [`user_id[]=${victim}`, 'user_id[]'],
      [`USER_ID=${victim}`, 'USER_ID'],
      ['foo=1', 'foo'],
    ];
    for (const route of routes) {
      for (const [query, name] of queries) {
        const response = await gateway.asUser(caller, `${route.path}?${query}`, { method: route.body ? 'POST' : 'GET', body: route.body });
        expect({ route: route.path, query, ...response }).toEqual({
          route: route.path,
          query,
          status: 400,
          body: { error: 'bad_request', message: `querystring.${name} is not allowed` },
        });
      }
    }
    // A known parameter given twice is not a choice between them either.
    for (const query of ['status=unread&status=all', 'limit=1&limit=100', 'cursor=3&cursor=999']) {
      const response = await gateway.asUser(caller, `/notifications?${query}`);
      expect({ query, status: response.status, error: response.body.error }).toEqual({ query, status: 400, error: 'bad_request' });
    }
    // A user named in the body of a POST is refused the same way.
    for (const field of ['user_id', 'userId', 'user', 'sub']) {
      const markRead = await gateway.asUser(caller, '/notifications/mark-read', { body: { notification_ids: victimIds, [field]: victim } });
      const markAll = await gateway.asUser(caller, '/notifications/mark-all-read', { body: { [field]: victim } });
      const refused = { status: 400, body: { error: 'bad_request', message: `body.${field} is not allowed` } };
      expect({ field, markRead, markAll }).toEqual({ field, markRead: refused, markAll: refused });
    }

    expect(await inbox(caller)).toEqual({ ids: [...callerIds].reverse(), unread: { count: 3, seq: 3 } });
    expect(await inbox(victim)).toEqual({ ids: [...victimIds].reverse(), unread: { count: 2, seq: 2 } });
    // Without the parameter each route works, on the caller's inbox alone.
    expect(await gateway.asUser(caller, '/notifications/mark-read', { body: { notification_ids: [...victimIds, callerIds[0]] } })).toEqual({
      status: 200,
      body: { notification_ids: [callerIds[0]] },
    });
    expect(await gateway.asUser(caller, '/notifications/mark-all-read', { body: {} })).toEqual({ status: 200, body: { changed: true } });
    expect((await inbox(caller)).unread).toEqual({ count: 0, seq: 5 });
    expect(await inbox(victim)).toEqual({ ids: [...victimIds].reverse(), unread: { count: 2, seq: 2 } });
  });
});
