import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInbox, inboxDistDir } from '../../../../scripts/build-inbox.js';
import { inboxPage } from '../../src/http/inbox-page.js';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { rawGet } from '../helpers/raw-get.js';

/** The policy, directive by directive, written out here so that loosening it in the code fails this test. */
const EXPECTED_POLICY = {
  'default-src': "'self'",
  'script-src': "'self'",
  'style-src': "'self'",
  'img-src': "'self'",
  'connect-src': "'self'",
  'frame-ancestors': "'none'",
  'base-uri': "'none'",
  'form-action': "'none'",
  'object-src': "'none'",
};

function directives(policy: string | null): Record<string, string> {
  const parsed: Record<string, string> = {};
  for (const directive of (policy ?? '').split(';')) {
    const [name = '', ...sources] = directive.trim().split(/\s+/);
    if (name !== '') parsed[name] = sources.join(' ');
  }
  return parsed;
}

function expectPageHeaders(headers: Headers | Record<string, string>, what: string): void {
  const get = (name: string) => (headers instanceof Headers ? headers.get(name) : (headers[name] ?? null));
  expect(directives(get('content-security-policy')), what).toEqual(EXPECTED_POLICY);
  expect(get('x-content-type-options'), what).toBe('nosniff');
  expect(get('referrer-policy'), what).toBe('no-referrer');
}

describe('the inbox page answers with its security headers', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    await buildInbox();
    gateway = await startGateway('sqlite');
  });
  afterAll(() => gateway.close());

  it('builds a page with no inline script, inline style, style attribute or event handler attribute', () => {
    const html = readFileSync(join(inboxDistDir, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [tag, body] of scripts) {
      expect(tag).toMatch(/\ssrc="\.\/assets\//);
      expect(body?.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
  });

  it('sets them on /, on HEAD /, on each file the page loads, and on a revalidation', async () => {
    const page = await fetch(`${gateway.baseUrl}/`);
    expect(page.status).toBe(200);
    expectPageHeaders(page.headers, 'GET /');
    const html = await page.text();
    const head = await fetch(`${gateway.baseUrl}/`, { method: 'HEAD' });
    expectPageHeaders(head.headers, 'HEAD /');

    const files = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((match) => match[1]);
    expect(files).toEqual(['assets/inbox.css', 'assets/inbox.js']);
    for (const path of files) {
      const file = await fetch(`${gateway.baseUrl}/${path}`);
      expect(file.status, path).toBe(200);
      expectPageHeaders(file.headers, path!);
      const again = await rawGet(gateway.baseUrl, `/${path}`, { 'if-none-match': file.headers.get('etag')! });
      expect(again.status, path).toBe(304);
      expectPageHeaders(again.headers, `${path} revalidated`);
    }
  });

  it('sets them on the 404 of an unknown or refused asset and on the 403 of the folder', async () => {
    for (const [path, status] of [
      ['/assets/missing.js', 404],
      ['/assets/.hidden', 404],
      ['/assets/', 403],
    ] as const) {
      const answer = await fetch(`${gateway.baseUrl}${path}`);
      expect(answer.status, path).toBe(status);
      expectPageHeaders(answer.headers, path);
    }
    // A non-canonical form, which @fastify/static refuses with 403 and the page turns into 404.
    for (const target of ['/assets//inbox.js', '/assets/%2e%2e/index.html']) {
      const answer = await rawGet(gateway.baseUrl, target);
      expect(answer.status, target).toBe(404);
      expectPageHeaders(answer.headers, target);
    }
  });

  it("gives the API nosniff and not the page's policy", async () => {
    const user = uniqueUser('headers');
    const token = await gateway.token(user);
    for (const [path, init, status] of [
      ['/healthz', {}, 200],
      ['/metrics', {}, 200],
      ['/openapi.json', {}, 200],
      ['/notifications', { headers: { authorization: `Bearer ${token}` } }, 200],
      ['/notifications', {}, 401],
      ['/nope', {}, 404],
      ['/.env', {}, 404],
    ] as const) {
      const answer = await fetch(`${gateway.baseUrl}${path}`, init);
      expect(answer.status, path).toBe(status);
      expect(answer.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(answer.headers.get('content-security-policy'), path).toBeNull();
    }
    const publish = await gateway.publish({ user_id: user, type: 'new_notification', payload: { title: 'x' } });
    expect(publish.status).toBe(200);
  });
});

describe('the inbox page before it is built', () => {
  const empty = mkdtempSync(join(tmpdir(), 'herald-no-inbox-'));
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  it('sets the headers on the 404 that says how to build it', async () => {
    const app = Fastify();
    await app.register(inboxPage, { root: empty });
    const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const answer = await fetch(`${baseUrl}/`);
      expect(answer.status).toBe(404);
      expectPageHeaders(answer.headers, 'unbuilt /');
    } finally {
      await app.close();
    }
  });
});
