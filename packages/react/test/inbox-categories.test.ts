import { describe, expect, it } from 'vitest';
import { uniqueUser } from '../../server/test/helpers/gateway.js';
import { InboxPage } from './helpers/inbox-page.js';
import { inboxSuite } from './helpers/inbox-suite.js';

const WAIT = { timeout: 15_000 };

describe('the inbox page’s category tabs and archive', () => {
  const suite = inboxSuite();

  async function notify(userId: string, title: string, category?: string): Promise<string> {
    const response = await suite.gateway.publish({ user_id: userId, type: 'new_notification', ...(category && { category }), payload: { title } });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body.events[0].notification_id;
  }

  it('shows a tab per category with its unread count, lists one category when chosen, and keeps the counts live', async () => {
    const user = uniqueUser('tabs');
    const invoice = await notify(user, 'Invoice', 'billing');
    await notify(user, 'Receipt', 'billing');
    await notify(user, 'Follow', 'social');
    await notify(user, 'Plain');
    const tab = await InboxPage.open(suite.context, suite.gateway.baseUrl, await suite.gateway.token(user));
    await expect.poll(() => tab.state(), WAIT).toBe('open');
    await expect
      .poll(() => tab.tabs(), WAIT)
      .toEqual([
        { tab: 'all', unread: '4', selected: true },
        { tab: 'category:billing', unread: '2', selected: false },
        { tab: 'category:social', unread: '1', selected: false },
        { tab: 'archive', unread: '', selected: false },
      ]);

    await tab.selectTab('category:billing');
    await expect.poll(() => tab.titles(), WAIT).toEqual(['Receipt', 'Invoice']);
    await notify(user, 'Refund', 'billing');
    await notify(user, 'Like', 'social');
    await expect.poll(() => tab.titles(), WAIT).toEqual(['Refund', 'Receipt', 'Invoice']);
    await expect.poll(async () => (await tab.tabs()).map((shown) => shown.unread), WAIT).toEqual(['6', '3', '2', '']);

    await tab.markRead(invoice);
    await expect.poll(async () => (await tab.tabs()).map((shown) => shown.unread), WAIT).toEqual(['5', '2', '2', '']);
    expect(await tab.unread()).toBe(5);
    // The server agrees, category by category.
    const counts = (await suite.gateway.asUser(user, '/notifications/counts')).body;
    expect([counts.unread, counts.categories.billing.unread, counts.categories.social.unread]).toEqual([5, 2, 2]);
    expect(tab.errors).toEqual([]);
  });

  it('archives out of the inbox into the archive view, and back, and deletes from there', async () => {
    const user = uniqueUser('archive');
    const older = await notify(user, 'Older');
    const newer = await notify(user, 'Newer');
    const tab = await InboxPage.open(suite.context, suite.gateway.baseUrl, await suite.gateway.token(user));
    await expect.poll(() => tab.titles(), WAIT).toEqual(['Newer', 'Older']);

    await tab.item(older).getByTestId('archive').click();
    await expect.poll(() => tab.titles(), WAIT).toEqual(['Newer']);
    // An archived notification is not counted.
    await expect.poll(() => tab.unread(), WAIT).toBe(1);

    await tab.selectTab('archive');
    await expect.poll(() => tab.titles(), WAIT).toEqual(['Older']);
    await tab.item(older).getByTestId('unarchive').click();
    await expect.poll(() => tab.page.getByTestId('empty').textContent(), WAIT).toBe('Nothing archived.');
    await tab.selectTab('all');
    await expect.poll(() => tab.titles(), WAIT).toEqual(['Newer', 'Older']);
    await expect.poll(() => tab.unread(), WAIT).toBe(2);

    await tab.item(newer).getByTestId('archive').click();
    await tab.selectTab('archive');
    await expect.poll(() => tab.titles(), WAIT).toEqual(['Newer']);
    await tab.item(newer).getByTestId('delete').click();
    await expect.poll(() => tab.page.getByTestId('empty').textContent(), WAIT).toBe('Nothing archived.');
    const everything = (await suite.gateway.asUser(user, '/notifications?archived=all')).body.items.map((item: { id: string }) => item.id);
    expect(everything).toEqual([older]);
    expect(tab.errors).toEqual([]);
  });
});
