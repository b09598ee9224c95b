import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../../server/test/helpers/gateway.js';
import { waitUntil } from '../../server/test/helpers/wait-until.js';
import { HeraldClient } from '../src/herald-client.js';
import { Inbox } from '../src/inbox.js';

describe('Inbox over a real gateway', () => {
  let gateway: TestGateway;
  const cleanups: Array<() => void> = [];
  beforeAll(async () => {
    gateway = await startGateway('sqlite');
  });
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });
  afterAll(() => gateway.close());

  function openInbox(userId: string, pageSize = 50): Inbox {
    const client = new HeraldClient({ url: gateway.baseUrl, token: () => gateway.token(userId) });
    const inbox = new Inbox(client, { pageSize });
    client.connect();
    cleanups.push(() => {
      inbox.dispose();
      client.close();
    });
    return inbox;
  }

  const publish = (userId: string, n: number) => gateway.publish({ user_id: userId, type: 'new_notification', payload: { n } });
  const serverCount = async (userId: string) => (await gateway.asUser(userId, '/notifications/unread-count')).body.count as number;

  it('keeps two tabs of one user in step: new notifications, one marked read, all marked read', async () => {
    const user = 'inbox-tabs';
    const [first, second] = [openInbox(user), openInbox(user)];
    await waitUntil(() => [first, second].every((inbox) => inbox.getSnapshot().state === 'open' && !inbox.getSnapshot().loading), 'both tabs to load');
    for (const n of [1, 2, 3]) await publish(user, n);
    await waitUntil(() => [first, second].every((inbox) => inbox.getSnapshot().unreadCount === 3), 'three unread on both');
    const newestFirst = first.getSnapshot().notifications.map((item) => item.payload['n']);
    expect(newestFirst).toEqual([3, 2, 1]);

    const oldest = first.getSnapshot().notifications[2]!;
    await first.markRead(oldest.id);
    await waitUntil(() => second.getSnapshot().unreadCount === 2, 'the other tab to see the read');
    expect(second.getSnapshot().notifications.find((item) => item.id === oldest.id)?.status).toBe('read');
    expect(first.getSnapshot().unreadCount).toBe(2);

    await second.markAllRead();
    await waitUntil(() => first.getSnapshot().unreadCount === 0, 'all read in the first tab');
    expect(first.getSnapshot().notifications.every((item) => item.status === 'read')).toBe(true);
    expect(await serverCount(user)).toBe(0);
  });

  it('counts exactly when events arrive while the first page and the count are being fetched', async () => {
    const user = 'inbox-race';
    const publishing = (async () => {
      for (let batch = 0; batch < 8; batch++) {
        await gateway.publish(Array.from({ length: 5 }, (_, i) => ({ user_id: user, type: 'new_notification', payload: { n: batch * 5 + i } })));
      }
    })();
    const inbox = openInbox(user, 100);
    await publishing;
    await waitUntil(() => inbox.getSnapshot().notifications.length === 40 && !inbox.getSnapshot().loading, 'all 40 in the list');
    expect(inbox.getSnapshot().unreadCount).toBe(40);
    expect(await serverCount(user)).toBe(40);
    expect(new Set(inbox.getSnapshot().notifications.map((item) => item.id)).size).toBe(40);
  });

  it('pages older notifications in with loadMore, without repeats', async () => {
    const user = 'inbox-pages';
    await gateway.publish(Array.from({ length: 7 }, (_, n) => ({ user_id: user, type: 'new_notification', payload: { n } })));
    const inbox = openInbox(user, 3);
    await waitUntil(() => inbox.getSnapshot().notifications.length === 3, 'the first page');
    expect(inbox.getSnapshot().hasMore).toBe(true);
    await inbox.loadMore();
    await inbox.loadMore();
    expect(inbox.getSnapshot().notifications.map((item) => item.payload['n'])).toEqual([6, 5, 4, 3, 2, 1, 0]);
    expect(inbox.getSnapshot().hasMore).toBe(false);
    expect(inbox.getSnapshot().unreadCount).toBe(7);
  });

  it('notifies subscribers only on change and reports a failed action as its error', async () => {
    const user = 'inbox-errors';
    const inbox = openInbox(user);
    let notified = 0;
    inbox.subscribe(() => notified++);
    await waitUntil(() => inbox.getSnapshot().state === 'open' && !inbox.getSnapshot().loading, 'the inbox to load');
    const before = inbox.getSnapshot();
    const settled = notified;
    expect(inbox.getSnapshot()).toBe(before);

    await expect(inbox.markRead('')).rejects.toMatchObject({ status: 400 });
    expect(inbox.getSnapshot().error).toMatch(/notification_ids/);
    expect(notified).toBe(settled + 1);
  });
});
