import type { WebSocketRoute } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { uniqueUser } from '../../server/test/helpers/gateway.js';
import { InboxPage } from './helpers/inbox-page.js';
import { inboxSuite } from './helpers/inbox-suite.js';

const WAIT = { timeout: 15_000 };

describe('the inbox page after a reset', () => {
  // Only the newest 3 notifications (and events) are kept, so a page away for 4 more cannot be replayed to.
  const suite = inboxSuite({ HERALD_MAX_NOTIFICATIONS_PER_USER: '3' });

  it('loads the list and the counts again when Herald can no longer replay what it missed', async () => {
    const user = uniqueUser('reset');
    const notify = async (title: string, category: string) =>
      expect((await suite.gateway.publish({ user_id: user, type: 'new_notification', category, payload: { title } })).status).toBe(200);
    const page = await suite.context.newPage();
    const sockets: WebSocketRoute[] = [];
    let reachable = true;
    await page.routeWebSocket(/\/ws\/notifications/, (socket) => {
      sockets.push(socket);
      if (reachable) socket.connectToServer();
      else void socket.close({ code: 1006 });
    });
    const frames: string[] = [];
    page.on('websocket', (socket) => socket.on('framereceived', (frame) => frames.push(String(frame.payload))));
    const tab = InboxPage.of(page);
    await page.goto(`${suite.gateway.baseUrl}/?token=${await suite.gateway.token(user)}`);
    await expect.poll(() => tab.state(), WAIT).toBe('open');
    await notify('kept out', 'a');
    await expect.poll(() => tab.titles(), WAIT).toEqual(['kept out']);

    reachable = false;
    await sockets.at(-1)!.close({ code: 1006 });
    await expect.poll(() => tab.state(), WAIT).toBe('reconnecting');
    for (const [title, category] of [['one', 'a'], ['two', 'b'], ['three', 'b'], ['four', 'a']] as const) await notify(title, category);
    reachable = true;

    await expect.poll(() => tab.state(), { timeout: 30_000 }).toBe('open');
    await expect.poll(() => tab.titles(), WAIT).toEqual(['four', 'three', 'two']);
    await expect.poll(async () => (await tab.tabs()).map((shown) => `${shown.tab}=${shown.unread}`), WAIT).toEqual(['all=3', 'category:a=1', 'category:b=2', 'archive=']);
    expect(frames.some((frame) => JSON.parse(frame).type === 'reset')).toBe(true);
    // The stream goes on after the reset. (Herald now removes 'two' to stay at 3, but sends no event for that, so
    // the page keeps showing it until its next load: only the newest is checked.)
    await notify('five', 'b');
    await expect.poll(async () => (await tab.titles())[0], WAIT).toBe('five');
    expect(tab.errors).toEqual([]);
  });
});
