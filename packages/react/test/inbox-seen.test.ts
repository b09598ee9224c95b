import { describe, expect, it } from 'vitest';
import { uniqueUser } from '../../server/test/helpers/gateway.js';
import { InboxPage } from './helpers/inbox-page.js';
import { inboxSuite } from './helpers/inbox-suite.js';

const WAIT = { timeout: 15_000 };

describe('the inbox page and what the user has seen', () => {
  const suite = inboxSuite();

  it('marks the listed notifications seen when the panel opens, and what arrives later when it opens again', async () => {
    const user = uniqueUser('seen');
    for (const title of ['One', 'Two']) await suite.gateway.publish({ user_id: user, type: 'new_notification', payload: { title } });
    const unseen = async () => (await suite.gateway.asUser(user, '/notifications/counts')).body.unseen;
    expect(await unseen()).toBe(2);

    const tab = await InboxPage.open(suite.context, suite.gateway.baseUrl, await suite.gateway.token(user));
    const seenFlags = () => tab.page.getByTestId('notification').evaluateAll((items) => items.map((item) => item.getAttribute('data-seen')));
    await expect.poll(seenFlags, WAIT).toEqual(['true', 'true']);
    expect(await unseen()).toBe(0);
    // Seen is not read.
    expect(await tab.unread()).toBe(2);

    // Arriving while the panel stays open is not having been looked at.
    await suite.gateway.publish({ user_id: user, type: 'new_notification', payload: { title: 'Three' } });
    await expect.poll(() => tab.titles(), WAIT).toEqual(['Three', 'Two', 'One']);
    expect(await seenFlags()).toEqual(['false', 'true', 'true']);
    expect(await unseen()).toBe(1);

    // The browser tab comes back to the front: the panel opens again.
    await tab.page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    await expect.poll(seenFlags, WAIT).toEqual(['true', 'true', 'true']);
    expect(await unseen()).toBe(0);
    expect(tab.errors).toEqual([]);
  });
});
