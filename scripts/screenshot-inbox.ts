/**
 * Renders docs/inbox.png: the inbox page of a Herald started in this process on a throwaway SQLite file, with a
 * few notifications, some of them read. `npm run screenshot` runs it (after `npm run build`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Herald, loadConfig, mintToken } from '../packages/server/src/index.js';
import { buildInbox } from './build-inbox.js';
import { launchChromium } from './chromium.js';

const output = fileURLToPath(new URL('../docs/inbox.png', import.meta.url));
const secret = 'screenshot-secret-that-is-long-enough-for-hs256';
const user = 'alice';

// Oldest first; the page shows them newest first. Categories make the tabs; a url makes a link, actions buttons.
const notifications = [
  { title: 'Welcome to Herald', body: 'Notifications for your account show up here as they happen.', read: true },
  { title: 'Invoice INV-2031 is ready', body: 'March 2026 · 3 seats', category: 'billing', read: true },
  { title: 'Deploy to production finished', body: 'api v2.14.0 on 6 of 6 nodes', category: 'deploys', url: 'https://example.com/deploys/2140', read: false },
  { title: 'Bob commented on “Retry with jitter”', body: '“Looks good, one nit on the backoff cap.”', category: 'social', read: false },
  {
    title: 'Approve the March invoice?',
    body: 'INV-2031 · €1,240.00',
    category: 'billing',
    actions: [
      { id: 'approve', label: 'Approve' },
      { id: 'reject', label: 'Reject' },
    ],
    read: false,
  },
  { title: 'Build #1842 passed', body: 'main · 4 min 12 s', category: 'deploys', read: false },
];

const dataDir = mkdtempSync(join(tmpdir(), 'herald-screenshot-'));
await buildInbox();
const herald = await Herald.create({
  config: loadConfig({
    HERALD_HOST: '127.0.0.1',
    HERALD_PORT: '0',
    HERALD_DATABASE_URL: join(dataDir, 'herald.db'),
    HERALD_JWT_SECRET: secret,
    HERALD_API_KEY: 'screenshot-api-key-0123456789',
    HERALD_LOG_LEVEL: 'warn',
  }),
});
const browser = await launchChromium();
try {
  const { port } = await herald.listen();
  const baseUrl = `http://127.0.0.1:${port}`;
  const token = await mintToken(secret, user, '10m');
  const read: string[] = [];
  for (const { title, body, read: isRead, category, url, actions } of notifications) {
    const [event] = await herald.publish({
      user_id: user,
      type: 'new_notification',
      payload: url === undefined ? { title, body } : { title, body, url },
      ...(category === undefined ? {} : { category }),
      ...(actions === undefined ? {} : { actions }),
    });
    // A new_notification's stored payload is the notification itself.
    if (isRead && event !== undefined) read.push(String(event.payload['id']));
  }
  const marked = await fetch(`${baseUrl}/notifications/mark-read`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ notification_ids: read }),
  });
  if (!marked.ok) throw new Error(`mark-read answered ${marked.status}`);

  const context = await browser.newContext({
    viewport: { width: 640, height: 720 },
    deviceScaleFactor: 2,
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  const page = await context.newPage();
  await page.goto(`${baseUrl}/?token=${token}`);
  await page.locator('[data-testid="connection-state"][data-state="open"]').waitFor();
  await page.locator('[data-testid="notification"]').nth(notifications.length - 1).waitFor();
  await page.locator('[data-testid="unread-badge"]:not([hidden])').waitFor();
  await page.screenshot({ path: output, fullPage: true });
  console.log(`wrote ${output}`);
} finally {
  await browser.close();
  await herald.close();
  rmSync(dataDir, { recursive: true, force: true });
}
