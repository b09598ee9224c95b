import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInbox } from '../../../../scripts/build-inbox.js';
import { inboxPage, INBOX_MISSING_MESSAGE } from '../../src/http/inbox-page.js';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { TestClient } from '../helpers/ws-client.js';

describe('the inbox page at /', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    await buildInbox();
    gateway = await startGateway('sqlite');
  });
  afterAll(() => gateway.close());

  it('serves index.html at / and the bundle it loads under /assets/', async () => {
    const page = await fetch(`${gateway.baseUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<div id="root">');

    const scripts = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((match) => match[1]);
    expect(scripts).toEqual(['assets/inbox.css', 'assets/inbox.js']);
    const script = await fetch(`${gateway.baseUrl}/assets/inbox.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(await script.text()).toContain('/ws/notifications');
    const style = await fetch(`${gateway.baseUrl}/assets/inbox.css`);
    expect(style.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('serves no file outside the bundle and no directory listing', async () => {
    for (const path of ['/assets/missing.js', '/assets/..%2findex.html', '/assets/../../package.json', '/index.html', '/package.json']) {
      expect((await fetch(`${gateway.baseUrl}${path}`)).status, path).toBe(404);
    }
    const directory = await fetch(`${gateway.baseUrl}/assets/`);
    expect(directory.status).toBe(403);
    expect(await directory.text()).not.toContain('inbox.js');
  });

  it('leaves every API route answering as before', async () => {
    const user = uniqueUser('page');
    expect((await gateway.asUser(user, '/healthz')).body).toEqual({ status: 'ok' });
    expect((await fetch(`${gateway.baseUrl}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${gateway.baseUrl}/metrics`)).text()).toContain('herald_connections');
    const openapi = (await gateway.asUser(user, '/openapi.json')).body;
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/publish', '/notifications']));
    expect(Object.keys(openapi.paths)).not.toContain('/');

    const tab = await TestClient.open(gateway.wsUrl, await gateway.token(user));
    const published = await gateway.publish({ user_id: user, type: 'new_notification', payload: { title: 'hi' } });
    expect(published.status).toBe(200);
    await tab.waitForType('new_notification');
    await tab.close();

    const list = await gateway.asUser(user, '/notifications');
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    expect((await gateway.asUser(user, '/notifications/unread-count')).body.count).toBe(1);
    // An unknown API path is still the API's JSON 404, not a file lookup.
    const unknown = await gateway.asUser(user, '/notifications/nope/deeper');
    expect(unknown.status).toBe(404);
    expect(typeof unknown.body).toBe('object');
  });
});

describe('the inbox page before it is built', () => {
  const empty = mkdtempSync(join(tmpdir(), 'herald-no-inbox-'));
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  it('answers / with a 404 that says how to build it', async () => {
    const app = Fastify();
    await app.register(inboxPage, { root: empty });
    const response = await app.inject('/');
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.body).toBe(INBOX_MISSING_MESSAGE);
    expect(response.body).toContain('npm run build');
    await app.close();
  });
});
