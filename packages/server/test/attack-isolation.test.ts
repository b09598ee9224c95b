import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from './helpers/databases.js';
import { startGateway, uniqueUser, type TestGateway } from './helpers/gateway.js';
import { TestClient } from './helpers/ws-client.js';

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
    for (const query of ['', '?status=unread', '?status=read', '?cursor=1', '?cursor=4', '?cursor=999999', '?limit=100']) {
      const page = await gateway.asUser(alice, `/notifications${query}`);
      expect(page.status).toBe(200);
      for (const item of page.body.items) expect(aliceIds).toContain(item.id);
    }
    expect((await gateway.asUser(alice, '/notifications/unread-count')).body.count).toBe(3);
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

  it('ignores any user id a request names: the token alone says whose inbox it is', async () => {
    const bobBefore = await bobUnread();
    expect(bobBefore).toBeGreaterThan(0);
    const attempts = [
      `/notifications?user_id=${bob}`,
      `/notifications?sub=${bob}`,
      `/notifications/unread-count?user_id=${bob}`,
    ];
    for (const path of attempts) {
      const response = await gateway.asUser(alice, path);
      if (response.status === 200 && 'items' in response.body) {
        for (const item of response.body.items) expect(aliceIds).toContain(item.id);
      } else {
        expect([200, 400]).toContain(response.status);
      }
    }
    const withUser = await gateway.asUser(alice, '/notifications/mark-read', { body: { notification_ids: bobIds, user_id: bob } });
    expect(withUser.status).toBe(400);
    expect(await bobUnread()).toBe(bobBefore);
  });
});
