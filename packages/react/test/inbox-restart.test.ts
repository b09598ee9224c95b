import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInbox } from '../../../scripts/build-inbox.js';
import { launchChromium } from '../../../scripts/chromium.js';
import { freshSqlitePath } from '../../server/test/helpers/databases.js';
import { freePort } from '../../server/test/helpers/free-port.js';
import { startGateway, uniqueUser, type TestGateway } from '../../server/test/helpers/gateway.js';
import { InboxPage } from './helpers/inbox-page.js';

// The page backs off up to 30 s between attempts; the gateway is down for a few seconds only, so the next
// attempt after the restart comes well within this.
const RECONNECT = { timeout: 45_000 };
const WAIT = { timeout: 15_000 };

describe('the inbox page across a gateway restart', () => {
  const databaseUrl = freshSqlitePath();
  const gateways: TestGateway[] = [];
  let browser: Browser;

  /** A gateway on the shared SQLite file; the test owns the file, so closing a gateway keeps the data. */
  async function start(port: number): Promise<TestGateway> {
    const gateway = await startGateway('sqlite', { databaseUrl, env: { HERALD_PORT: String(port) } });
    gateways.push(gateway);
    return gateway;
  }

  beforeAll(async () => {
    await buildInbox();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all(gateways.map((gateway) => gateway.close()));
    rmSync(dirname(databaseUrl), { recursive: true, force: true });
  });

  it('shows reconnecting while the gateway is down, then open, with what was missed exactly once and in order', { timeout: 120_000 }, async () => {
    const user = uniqueUser('restart');
    const port = await freePort();
    const first = await start(port);
    const notify = async (gateway: TestGateway, title: string) =>
      expect((await gateway.publish({ user_id: user, type: 'new_notification', payload: { title } })).status).toBe(200);

    const context = await browser.newContext();
    const tab = await InboxPage.open(context, first.baseUrl, await first.token(user, '1h'));
    await expect.poll(() => tab.state(), WAIT).toBe('open');
    await notify(first, 'before');
    await expect.poll(() => tab.titles(), WAIT).toEqual(['before']);

    await first.close();
    await expect.poll(() => tab.state(), WAIT).toBe('reconnecting');

    // Published while the page's gateway is down: stored by another gateway on the same database.
    const other = await start(0);
    for (const title of ['missed 1', 'missed 2', 'missed 3']) await notify(other, title);
    await other.close();
    expect(await tab.state()).toBe('reconnecting');
    expect(await tab.titles()).toEqual(['before']);

    expect(await tab.unread()).toBe(1);

    const restarted = await start(port);
    await expect.poll(() => tab.state(), RECONNECT).toBe('open');
    await expect.poll(() => tab.titles(), WAIT).toEqual(['missed 3', 'missed 2', 'missed 1', 'before']);
    // One live event after the replay: the socket is ordered, so once it shows, a repeated replay would have too.
    await notify(restarted, 'after');
    await expect.poll(() => tab.titles(), WAIT).toEqual(['after', 'missed 3', 'missed 2', 'missed 1', 'before']);
    expect(await tab.unread()).toBe(5);
    expect(tab.errors).toEqual([]);
    await context.close();
  });
});
