import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { uniqueUser } from '../../server/test/helpers/gateway.js';
import { InboxPage } from './helpers/inbox-page.js';
import { inboxSuite } from './helpers/inbox-suite.js';

const WAIT = { timeout: 15_000 };

interface Violation {
  directive: string;
  blocked: string;
}

/**
 * Records every CSP violation the page reports (the `securitypolicyviolation` event, listened for before any of
 * the page's own script runs) and every console message Chromium writes about the policy.
 */
async function watchPolicy(page: Page): Promise<{ violations: () => Promise<Violation[]>; console: string[] }> {
  const console: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) console.push(message.text());
  });
  await page.addInitScript(() => {
    const seen: Violation[] = [];
    (window as unknown as { __violations: Violation[] }).__violations = seen;
    document.addEventListener('securitypolicyviolation', (event) => {
      seen.push({ directive: event.effectiveDirective, blocked: event.blockedURI });
    });
  });
  return {
    violations: () => page.evaluate(() => (window as unknown as { __violations: Violation[] }).__violations),
    console,
  };
}

describe('the inbox page under its Content-Security-Policy', () => {
  const suite = inboxSuite();

  it('connects, lists, marks read and takes a pasted token without a single violation, and sends no referrer', async () => {
    const user = uniqueUser('csp');
    const token = await suite.gateway.token(user);
    const page = await suite.context.newPage();
    const referrers: string[] = [];
    page.on('request', (request) => {
      // Playwright lists an empty `referer` for a request that was sent none.
      const referer = request.headers()['referer'];
      if (referer !== undefined && referer !== '') referrers.push(`${request.url()} ← ${referer}`);
    });
    const policy = await watchPolicy(page);
    const tab = InboxPage.of(page);

    const response = await page.goto(`${suite.gateway.baseUrl}/?token=${token}`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await expect.poll(() => tab.state(), WAIT).toBe('open');
    const published = await suite.gateway.publish({ user_id: user, type: 'new_notification', payload: { title: 'Under CSP' } });
    expect(published.status).toBe(200);
    const id: string = published.body.events[0].notification_id;
    await expect.poll(() => tab.titles(), WAIT).toEqual(['Under CSP']);
    await tab.markRead(id);
    await expect.poll(() => tab.statusOf(id), WAIT).toBe('read');

    await page.getByTestId('sign-out').click();
    await page.getByLabel('User token').fill(token);
    await page.getByRole('button', { name: 'Open inbox' }).click();
    await expect.poll(() => tab.state(), WAIT).toBe('open');
    await expect.poll(() => tab.titles(), WAIT).toEqual(['Under CSP']);

    expect(await policy.violations()).toEqual([]);
    expect(policy.console).toEqual([]);
    expect(tab.errors).toEqual([]);
    expect(referrers).toEqual([]);
  });

  it('blocks an injected inline script, an inline style and a socket to another origin (the policy is in force)', async () => {
    const page = await suite.context.newPage();
    const policy = await watchPolicy(page);
    await page.goto(`${suite.gateway.baseUrl}/`);
    await page.getByTestId('token-form').waitFor();
    const otherOrigin = suite.gateway.baseUrl.replace('127.0.0.1', 'localhost').replace(/^http/, 'ws');

    const ran = await page.evaluate(async (socketUrl) => {
      const script = document.createElement('script');
      script.textContent = 'window.__inlineRan = true';
      document.head.append(script);
      const style = document.createElement('style');
      style.textContent = 'body { margin: 77px }';
      document.head.append(style);
      const socket = new WebSocket(`${socketUrl}/ws/notifications`);
      await new Promise((resolve) => {
        socket.onerror = resolve;
        socket.onopen = resolve;
      });
      return {
        script: (window as unknown as { __inlineRan?: boolean }).__inlineRan === true,
        style: getComputedStyle(document.body).marginTop === '77px',
        socket: socket.readyState === WebSocket.OPEN,
      };
    }, otherOrigin);
    expect(ran).toEqual({ script: false, style: false, socket: false });
    await expect
      .poll(async () => (await policy.violations()).map((violation) => violation.directive).sort(), WAIT)
      .toEqual(['connect-src', 'script-src-elem', 'style-src-elem']);
  });
});
