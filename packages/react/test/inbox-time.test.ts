import { describe, expect, it } from 'vitest';
import { uniqueUser } from '../../server/test/helpers/gateway.js';
import { InboxPage } from './helpers/inbox-page.js';
import { inboxSuite } from './helpers/inbox-suite.js';

const WAIT = { timeout: 15_000 };

describe('the inbox page’s relative times', () => {
  // The page's clock is moved on by hours below; with Herald's pings that far apart, the connection's liveness
  // check (two ping intervals of silence) does not take the jump for a dead server.
  const suite = inboxSuite({ HERALD_PING_INTERVAL_MS: String(6 * 3_600_000), HERALD_IDLE_TIMEOUT_MS: String(13 * 3_600_000) });

  it('says how long ago each notification came, and keeps saying it as time passes', async () => {
    const user = uniqueUser('time');
    const page = await suite.context.newPage();
    await page.clock.install();
    const tab = InboxPage.of(page);
    await page.goto(`${suite.gateway.baseUrl}/?token=${await suite.gateway.token(user, '24h')}`);
    await expect.poll(() => tab.state(), WAIT).toBe('open');
    expect((await suite.gateway.publish({ user_id: user, type: 'new_notification', payload: { title: 'Fresh' } })).status).toBe(200);
    const time = page.getByTestId('notification-time');
    await expect.poll(() => time.textContent(), WAIT).toBe('just now');
    expect(Date.parse((await time.getAttribute('datetime'))!)).toBeLessThanOrEqual(Date.now());

    await page.clock.runFor(2 * 60_000 + 20_000);
    await expect.poll(() => time.textContent(), WAIT).toBe('2 min ago');
    await page.clock.runFor(3 * 3_600_000);
    await expect.poll(() => time.textContent(), WAIT).toBe('3 h ago');
    expect(await tab.state()).toBe('open');
    expect(tab.errors).toEqual([]);
  });
});
