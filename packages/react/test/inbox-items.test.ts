import { describe, expect, it } from 'vitest';
import { uniqueUser } from '../../server/test/helpers/gateway.js';
import { InboxPage } from './helpers/inbox-page.js';
import { inboxSuite } from './helpers/inbox-suite.js';

const WAIT = { timeout: 15_000 };

describe('the inbox page’s links and actions', () => {
  const suite = inboxSuite();

  async function notify(userId: string, fields: Record<string, unknown>): Promise<string> {
    const response = await suite.gateway.publish({ user_id: userId, type: 'new_notification', ...fields });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body.events[0].notification_id;
  }

  it('opens the payload’s url from the title, marking the notification read, and links no other kind of URL', async () => {
    const user = uniqueUser('link');
    const target = `${suite.gateway.baseUrl}/health?from=inbox`;
    const linked = await notify(user, { payload: { title: 'Open me', url: target } });
    const scripted = await notify(user, { payload: { title: 'Not a link', url: 'javascript:alert(1)' } });
    const tab = await InboxPage.open(suite.context, suite.gateway.baseUrl, await suite.gateway.token(user));
    await expect.poll(() => tab.titles(), WAIT).toEqual(['Not a link', 'Open me']);
    expect(await tab.item(scripted).getByTestId('notification-link').count()).toBe(0);

    const link = tab.item(linked).getByTestId('notification-link');
    expect(await link.getAttribute('href')).toBe(target);
    const popup = tab.page.waitForEvent('popup');
    await link.click();
    expect((await popup).url()).toBe(target);
    await expect.poll(() => tab.statusOf(linked), WAIT).toBe('read');
    expect(tab.errors).toEqual([]);
  });

  it('shows actions as buttons, records the one clicked once, and shows it taken in every tab', async () => {
    const user = uniqueUser('actions');
    const token = await suite.gateway.token(user);
    const actions = [
      { id: 'approve', label: 'Approve' },
      { id: 'reject', label: 'Reject' },
    ];
    const id = await notify(user, { actions, payload: { title: 'Deploy to production?' } });
    const [first, second] = [await InboxPage.open(suite.context, suite.gateway.baseUrl, token), await InboxPage.open(suite.context, suite.gateway.baseUrl, token)];
    for (const tab of [first, second]) {
      await expect.poll(() => tab.item(id).getByTestId('action').allTextContents(), WAIT).toEqual(['Approve', 'Reject']);
    }

    await first.item(id).locator('[data-testid="action"][data-action-id="approve"]').click();
    for (const tab of [first, second]) {
      await expect.poll(() => tab.item(id).getByTestId('actioned').textContent(), WAIT).toBe('✓ Approve');
      expect(await tab.item(id).getByTestId('action').count()).toBe(0);
    }
    const [stored] = (await suite.gateway.asUser(user, '/notifications')).body.items;
    expect(stored.actioned).toMatchObject({ id: 'approve' });
    expect([...first.errors, ...second.errors]).toEqual([]);
  });
});
