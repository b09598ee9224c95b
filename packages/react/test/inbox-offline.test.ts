import type { WebSocketRoute } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { uniqueUser } from '../../server/test/helpers/gateway.js';
import { InboxPage } from './helpers/inbox-page.js';
import { inboxSuite } from './helpers/inbox-suite.js';

const WAIT = { timeout: 15_000 };

describe('the inbox page offline and refused', () => {
  // A token that expires is refused 200 ms later (4002), not after the default 30 s.
  const suite = inboxSuite({ HERALD_TOKEN_GRACE_MS: '200' });

  async function notifyWithAction(userId: string): Promise<string> {
    const response = await suite.gateway.publish({
      user_id: userId,
      type: 'new_notification',
      actions: [{ id: 'ack', label: 'Acknowledge' }],
      payload: { title: 'Disk almost full' },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body.events[0].notification_id;
  }

  /** Whether each of the row's buttons and "Mark all read" can be pressed. */
  async function enabled(tab: InboxPage, id: string) {
    const row = tab.item(id);
    return {
      markRead: await row.getByTestId('mark-read').isEnabled(),
      archive: await row.getByTestId('archive').isEnabled(),
      action: await row.getByTestId('action').isEnabled(),
      markAllRead: await tab.page.getByTestId('mark-all-read').isEnabled(),
    };
  }
  const all = (value: boolean) => ({ markRead: value, archive: value, action: value, markAllRead: value });

  it('disables the buttons while the connection is down, and clears the last error once it is back', async () => {
    const user = uniqueUser('offline');
    const id = await notifyWithAction(user);
    const page = await suite.context.newPage();
    // The page's socket goes through the test, which can cut it and refuse new ones, as a lost network would.
    const sockets: WebSocketRoute[] = [];
    let reachable = true;
    await page.routeWebSocket(/\/ws\/notifications/, (socket) => {
      sockets.push(socket);
      if (reachable) socket.connectToServer();
      else void socket.close({ code: 1006 });
    });
    const tab = InboxPage.of(page);
    await page.goto(`${suite.gateway.baseUrl}/?token=${await suite.gateway.token(user)}`);
    await expect.poll(() => tab.state(), WAIT).toBe('open');
    await expect.poll(() => tab.titles(), WAIT).toEqual(['Disk almost full']);
    expect(await enabled(tab, id)).toEqual(all(true));

    // A change Herald could not take: its error shows.
    await page.route('**/notifications/mark-read', (route) => route.fulfill({ status: 503, json: { error: 'unavailable', message: 'Herald is unavailable' } }));
    await tab.markRead(id);
    await expect.poll(() => tab.error(), WAIT).toBe('Herald is unavailable');
    await page.unroute('**/notifications/mark-read');

    reachable = false;
    await sockets.at(-1)!.close({ code: 1006 });
    await expect.poll(() => tab.state(), WAIT).toBe('reconnecting');
    expect(await enabled(tab, id)).toEqual(all(false));

    reachable = true;
    await expect.poll(() => tab.state(), { timeout: 30_000 }).toBe('open');
    // The error was about a moment that has passed.
    expect(await tab.error()).toBeNull();
    expect(await enabled(tab, id)).toEqual(all(true));
    await tab.markRead(id);
    await expect.poll(() => tab.statusOf(id), WAIT).toBe('read');
    expect(tab.errors).toEqual([]);
  });

  it('disables the buttons once Herald refuses the expired token, and enables them with a new one', async () => {
    const user = uniqueUser('refused');
    const id = await notifyWithAction(user);
    const tab = await InboxPage.open(suite.context, suite.gateway.baseUrl, await suite.gateway.token(user, '3s'));
    await expect.poll(() => tab.titles(), WAIT).toEqual(['Disk almost full']);
    expect(await enabled(tab, id)).toEqual(all(true));

    await expect.poll(() => tab.state(), WAIT).toBe('unauthorized');
    expect(await enabled(tab, id)).toEqual(all(false));

    await tab.page.getByLabel('User token').fill(await suite.gateway.token(user));
    await tab.page.getByRole('button', { name: 'Open inbox' }).click();
    await expect.poll(() => tab.state(), WAIT).toBe('open');
    await expect.poll(() => enabled(tab, id), WAIT).toEqual(all(true));
    expect(tab.errors).toEqual([]);
  });
});
