import { describe, expect, it } from 'vitest';
import { uniqueUser } from '../../server/test/helpers/gateway.js';
import { InboxPage } from './helpers/inbox-page.js';
import { inboxSuite } from './helpers/inbox-suite.js';

const WAIT = { timeout: 15_000 };

describe('the inbox page, live', () => {
  const suite = inboxSuite();

  async function notify(userId: string, title: string): Promise<string> {
    const response = await suite.gateway.publish({ user_id: userId, type: 'new_notification', payload: { title } });
    expect(response.status).toBe(200);
    return response.body.events[0].notification_id;
  }

  it('shows a notification published over HTTP as it arrives, newest first, and counts it on the bell', async () => {
    const user = uniqueUser('live');
    const tab = await InboxPage.open(suite.context, suite.gateway.baseUrl, await suite.gateway.token(user));
    await expect.poll(() => tab.state(), WAIT).toBe('open');
    await expect.poll(() => tab.page.getByTestId('empty').textContent(), WAIT).toBe('No notifications yet.');
    expect(await tab.unread()).toBe(0);

    const first = await notify(user, 'Build passed');
    await expect.poll(() => tab.notifications(), WAIT).toEqual([{ id: first, title: 'Build passed', status: 'unread' }]);
    await expect.poll(() => tab.unread(), WAIT).toBe(1);

    const second = await notify(user, 'Deploy finished');
    await expect.poll(() => tab.titles(), WAIT).toEqual(['Deploy finished', 'Build passed']);
    await expect.poll(() => tab.unread(), WAIT).toBe(2);
    expect((await tab.notifications())[0]?.id).toBe(second);
    expect(await tab.page.getByTestId('unread-badge').getAttribute('aria-label')).toBe('2 unread notifications');
    // Another user's notification is not this tab's.
    await notify(uniqueUser('other'), 'Not for you');
    await notify(user, 'Third');
    await expect.poll(() => tab.titles(), WAIT).toEqual(['Third', 'Deploy finished', 'Build passed']);
    expect(tab.errors).toEqual([]);
  });

  it('keeps two tabs of one user in step: read in one tab is read in the other, and so is mark all read', async () => {
    const user = uniqueUser('tabs');
    const token = await suite.gateway.token(user);
    const ids = [await notify(user, 'One'), await notify(user, 'Two'), await notify(user, 'Three')];
    const [tab1, tab2] = [await InboxPage.open(suite.context, suite.gateway.baseUrl, token), await InboxPage.open(suite.context, suite.gateway.baseUrl, token)];
    for (const tab of [tab1, tab2]) {
      await expect.poll(() => tab.state(), WAIT).toBe('open');
      await expect.poll(() => tab.titles(), WAIT).toEqual(['Three', 'Two', 'One']);
      expect(await tab.unread()).toBe(3);
    }

    await tab1.markRead(ids[1]!);
    await expect.poll(() => tab2.unread(), WAIT).toBe(2);
    await expect.poll(() => tab2.statusOf(ids[1]!), WAIT).toBe('read');
    expect(await tab2.statusOf(ids[0]!)).toBe('unread');
    await expect.poll(() => tab1.unread(), WAIT).toBe(2);
    await expect.poll(() => tab1.statusOf(ids[1]!), WAIT).toBe('read');

    await tab2.markAllRead();
    for (const tab of [tab1, tab2]) {
      await expect.poll(() => tab.unread(), WAIT).toBe(0);
      await expect.poll(async () => (await tab.notifications()).map((item) => item.status), WAIT).toEqual(['read', 'read', 'read']);
      expect(await tab.page.getByTestId('unread-badge').isHidden()).toBe(true);
    }
    // The server agrees: nothing left unread.
    expect((await suite.gateway.asUser(user, '/notifications/unread-count')).body.count).toBe(0);
    expect([...tab1.errors, ...tab2.errors]).toEqual([]);
  });

  it('loads older notifications with "Load more" until there are none', async () => {
    const user = uniqueUser('more');
    const published = Array.from({ length: 25 }, (_, index) => ({ user_id: user, type: 'new_notification', payload: { title: `n${index}` } }));
    expect((await suite.gateway.publish(published)).status).toBe(200);
    const tab = await InboxPage.open(suite.context, suite.gateway.baseUrl, await suite.gateway.token(user));
    await expect.poll(async () => (await tab.titles()).length, WAIT).toBe(20);
    expect(await tab.unread()).toBe(25);

    await tab.page.getByTestId('load-more').click();
    const expected = Array.from({ length: 25 }, (_, index) => `n${24 - index}`);
    await expect.poll(() => tab.titles(), WAIT).toEqual(expected);
    expect(await tab.page.getByTestId('load-more').count()).toBe(0);
  });
});
