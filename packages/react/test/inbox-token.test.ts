import { describe, expect, it } from 'vitest';
import { uniqueUser } from '../../server/test/helpers/gateway.js';
import { waitUntil } from '../../server/test/helpers/wait-until.js';
import { InboxPage } from './helpers/inbox-page.js';
import { inboxSuite } from './helpers/inbox-suite.js';

const WAIT = { timeout: 15_000 };

describe('the inbox page and its token', () => {
  const suite = inboxSuite();

  it('takes ?token= out of the address bar, keeps it for reloads of the tab, and forgets it on request', async () => {
    const user = uniqueUser('url');
    const token = await suite.gateway.token(user);
    await suite.gateway.publish({ user_id: user, type: 'new_notification', payload: { title: 'Kept' } });
    const tab = InboxPage.of(await suite.context.newPage());
    await tab.page.goto(`${suite.gateway.baseUrl}/?view=all&token=${token}#top`);
    await expect.poll(() => tab.state(), WAIT).toBe('open');
    // Only the token leaves the address; whatever else was there stays.
    expect(tab.page.url()).toBe(`${suite.gateway.baseUrl}/?view=all#top`);

    await tab.page.reload();
    await expect.poll(() => tab.state(), WAIT).toBe('open');
    await expect.poll(() => tab.titles(), WAIT).toEqual(['Kept']);

    expect(suite.gateway.herald.isConnected(user)).toBe(true);
    await tab.page.getByTestId('sign-out').click();
    await tab.page.getByTestId('token-form').waitFor();
    // The inbox unmounted, and the hook closed its connection with it.
    await waitUntil(() => !suite.gateway.herald.isConnected(user), 'the signed-out tab disconnected', 15_000);
    await tab.page.reload();
    await tab.page.getByTestId('token-form').waitFor();
    expect(await tab.page.getByTestId('connection-state').count()).toBe(0);
  });

  it('opens the inbox with a token pasted into the form', async () => {
    const user = uniqueUser('form');
    await suite.gateway.publish({ user_id: user, type: 'new_notification', payload: { title: 'Pasted' } });
    const page = await suite.context.newPage();
    await page.goto(`${suite.gateway.baseUrl}/`);
    await page.getByLabel('User token').fill(await suite.gateway.token(user));
    await page.getByRole('button', { name: 'Open inbox' }).click();
    const tab = InboxPage.of(page);
    await expect.poll(() => tab.state(), WAIT).toBe('open');
    await expect.poll(() => tab.titles(), WAIT).toEqual(['Pasted']);
  });

  it('shows a refused token as unauthorized without retrying, and recovers with a good one', async () => {
    const user = uniqueUser('refused');
    const sockets: string[] = [];
    const page = await suite.context.newPage();
    page.on('websocket', (socket) => sockets.push(socket.url()));
    const tab = InboxPage.of(page);
    await page.goto(`${suite.gateway.baseUrl}/?token=${await suite.gateway.token(user, '-1m')}`);

    // 'unauthorized' is shown only once the client has stopped ('closed'), not while it retries.
    await expect.poll(() => tab.state(), WAIT).toBe('unauthorized');
    await page.getByText('Herald refused this token').waitFor();
    expect(page.url()).toBe(`${suite.gateway.baseUrl}/`);
    // The refused token is not kept: a reload asks for one instead of trying it again.
    expect(await page.evaluate(() => window.sessionStorage.length)).toBe(0);

    await suite.gateway.publish({ user_id: user, type: 'new_notification', payload: { title: 'After refresh' } });
    await page.getByLabel('User token').fill(await suite.gateway.token(user));
    await page.getByRole('button', { name: 'Open inbox' }).click();
    await expect.poll(() => tab.state(), WAIT).toBe('open');
    await expect.poll(() => tab.titles(), WAIT).toEqual(['After refresh']);
    // One socket for the refused token (which the page gave up on at once) and one for the new token.
    expect(sockets).toHaveLength(2);
    expect(tab.errors).toEqual([]);
  });
});
