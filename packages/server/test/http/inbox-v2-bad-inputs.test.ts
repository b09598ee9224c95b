import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badTokens } from '../helpers/bad-tokens.js';
import { databaseKinds } from '../helpers/databases.js';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { httpRequest } from '../helpers/http-request.js';
import { CHANGE_PATHS, InboxApi } from '../helpers/inbox-api.js';
import { BAD_CHANGE_BODIES, BAD_ITEMS, BAD_LIST_QUERIES, TASK_UPDATE_ITEMS, type BadItem } from '../helpers/inbox-bad-inputs.js';
import type { Change } from '../helpers/inbox-model.js';

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.each(databaseKinds)('inbox v2: bad input is refused, naming the field (%s)', (kind) => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway(kind);
  });
  afterAll(() => gateway.close());

  /** Expects a 400 bad_request whose message names `root`+`field` and says `because`. */
  function expectRefused(response: { status: number; body: any }, name: string, root: string, field: string, because: RegExp): void {
    const named = new RegExp(`^${escape(field === '' ? root : `${root}.${field}`)} ${because.source}`, because.flags);
    expect({ name, status: response.status, error: response.body.error }).toEqual({ name, status: 400, error: 'bad_request' });
    expect({ name, message: response.body.message }).toEqual({ name, message: expect.stringMatching(named) });
  }

  /** Publishes a bad item alone and as the second of a batch: both refused whole, so the user has no stream at all. */
  async function expectItemRefused({ name, item, field, because }: BadItem): Promise<void> {
    const user = uniqueUser('bad-item');
    const bad = { user_id: user, type: 'new_notification', payload: { title: 't' }, ...item };
    expectRefused(await gateway.publish(bad), name, 'body', field, because);
    const good = { user_id: user, type: 'new_notification', payload: { title: 'good' } };
    expectRefused(await gateway.publish([good, bad, good]), name, 'body[1]', field, because);
    expect(await new InboxApi(gateway, user).counts()).toEqual({ unread: 0, unseen: 0, categories: {}, seq: 0 });
  }

  it(`refuses each of ${BAD_ITEMS.length} malformed new_notification items, alone or in a batch, and stores nothing`, async () => {
    for (const bad of BAD_ITEMS) await expectItemRefused(bad);
  });

  it('refuses a batch that is empty, null or not of items, and keeps new_notification and task_update apart', async () => {
    const user = uniqueUser('bad-batch');
    const cases: Array<[unknown, RegExp]> = [
      [[], /^body must hold at least one item/],
      [[null], /^body\[0\] must be object/],
      [[{ user_id: user, type: 'new_notification', payload: {} }, 'x'], /^body\[1\] must be object/],
      [{ user_id: user, type: 'notification_updated', payload: {}, category: 'a' }, /^body\.type must be equal to one of the allowed values/],
    ];
    for (const [body, because] of cases) {
      const response = await gateway.publish(body);
      expect({ body, status: response.status, message: response.body.message }).toEqual({ body, status: 400, message: expect.stringMatching(because) });
    }
    expect((await new InboxApi(gateway, user).counts()).seq).toBe(0);
  });

  it.each(TASK_UPDATE_ITEMS)('refuses a task_update with $name', async (bad) => {
    await expectItemRefused(bad);
  });

  it('takes every edge of the valid range and stores it as given, on either database', async () => {
    const api = new InboxApi(gateway, uniqueUser('edges'));
    const fiveActions = [
      { id: 'a', label: 'x'.repeat(100) },
      // A label's length is counted in characters, as JSON Schema counts it: 100 emoji are 200 UTF-16 units.
      { id: 'A-Z_a.z-0.9', label: '😀'.repeat(100) },
      { id: 'i'.repeat(64), label: 'http', url: 'http://example.com' },
      { id: 'https', label: 'https', url: `https://example.com/${'a'.repeat(2028)}` },
      { id: 'q', label: 'query', url: 'https://example.com/?q=a%20b&x=<y>#frag' },
    ];
    const items = [
      { category: 'a' },
      { category: `0-_.${'z'.repeat(60)}` },
      { ttl_s: 1_000 },
      { ttl_s: 315_360_000 },
      { actions: fiveActions },
      { actions: [] },
      { expires_at: '2028-02-29T23:59:59Z' },
      { expires_at: '9999-12-31T23:59:59.999Z' },
      { expires_at: '9999-12-31T23:59:59+01:00' },
      { expires_at: '2099-01-01t00:00:00.123456789z' },
      // Surrogate pairs and other characters that need no escape are text like any other.
      { payload: { '😀': 'pair 😀', 'ключ': 'значение', nested: [{ '\u0001': '\u001f\ufffd' }] } },
    ];
    const ids = await api.publish(items);
    const records = new Map((await api.list()).map((record) => [record.id, record]));
    expect(records.size).toBe(items.length);
    expect(records.get(ids[1]!)!.category).toBe(items[1]!.category);
    expect(records.get(ids[4]!)!.actions).toEqual(fiveActions);
    expect(records.get(ids[5]!)!.actions).toEqual([]);
    expect(records.get(ids[7]!)!.expires_at).toBe('9999-12-31T23:59:59.999Z');
    expect(records.get(ids[8]!)!.expires_at).toBe('9999-12-31T22:59:59.000Z');
    expect(records.get(ids[10]!)!.payload).toEqual(items[10]!.payload);
  });

  it('takes an expiry already past, as early as 0001-01-01 UTC, and never lists it', async () => {
    const api = new InboxApi(gateway, uniqueUser('past'));
    const past = ['0001-01-01T00:00:00Z', '0001-01-01T00:30:00-01:00', '1969-12-31T23:59:59.999Z', '1970-01-01T00:00:00Z', '2001-01-01T00:00:00-12:00'];
    for (const expires_at of past) {
      const response = await gateway.publish({ user_id: api.userId, type: 'new_notification', payload: {}, expires_at });
      expect({ expires_at, status: response.status, body: response.body }).toEqual({ expires_at, status: 200, body: expect.objectContaining({ stored: 1 }) });
    }
    expect(await api.counts()).toEqual({ unread: 0, unseen: 0, categories: {}, seq: past.length });
    expect(await api.listIds({ archived: 'all' })).toEqual([]);
  });

  describe('change bodies', () => {
    const routes = Object.entries(CHANGE_PATHS) as Array<[Change, string]>;

    it.each(routes)('%s refuses each malformed body, naming the field, and changes nothing', async (_change, path) => {
      const api = new InboxApi(gateway, uniqueUser('bad-change'));
      await api.publish([{ category: 'a' }, {}]);
      await api.change('read', { notification_ids: [(await api.listIds())[0]!] });
      await api.change('archive', { notification_ids: [(await api.listIds())[0]!] });
      const before = { counts: await api.counts(), records: await api.list({ archived: 'all' }) };
      const bearer = await gateway.token(api.userId);
      for (const { name, body, rawBody, because } of BAD_CHANGE_BODIES) {
        const response = await httpRequest(gateway.baseUrl, path, { bearer, body, rawBody });
        expect({ name, status: response.status, error: response.body.error }).toEqual({ name, status: 400, error: 'bad_request' });
        expect({ name, message: response.body.message }).toEqual({ name, message: expect.stringMatching(because) });
      }
      for (const query of ['x=1', 'user_id=someone-else', 'notification_ids=a']) {
        const response = await httpRequest(gateway.baseUrl, `${path}?${query}`, { bearer, body: { filter: {} } });
        expect({ query, status: response.status, message: response.body.message }).toEqual({ query, status: 400, message: expect.stringMatching(/^querystring\.\w+ is not allowed/) });
      }
      // Without a body, and with a body that is not JSON.
      expect((await httpRequest(gateway.baseUrl, path, { bearer, method: 'POST' })).status).toBe(400);
      const text = await httpRequest(gateway.baseUrl, path, { bearer, rawBody: 'filter=', headers: { 'content-type': 'text/plain' } });
      expect(text.status).toBe(415);
      expect({ counts: await api.counts(), records: await api.list({ archived: 'all' }) }).toEqual(before);
    });
  });

  it.each(BAD_LIST_QUERIES)('GET /notifications?%s → 400 naming the parameter', async (query, because) => {
    const response = await gateway.asUser(uniqueUser('bad-list'), `/notifications?${query}`);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: 'bad_request', message: expect.stringMatching(because) });
  });

  it('GET /notifications/counts takes no parameter at all', async () => {
    const user = uniqueUser('bad-counts');
    for (const query of ['category=a', 'seq=1', 'status=unread', 'archived=true', 'x=', 'user_id=someone-else']) {
      const response = await gateway.asUser(user, `/notifications/counts?${query}`);
      expect({ query, status: response.status, message: response.body.message }).toEqual({ query, status: 400, message: expect.stringMatching(/^querystring\.\w+ is not allowed/) });
    }
  });

  it('every inbox route answers 401 to a missing, garbage, expired, wrongly signed or unsigned token, and changes nothing', async () => {
    const api = new InboxApi(gateway, uniqueUser('auth'));
    const [id] = await api.publish([{ category: 'a', actions: [{ id: 'a', label: 'A' }] }]);
    const routes: Array<{ method: string; path: string; body?: unknown }> = [
      { method: 'GET', path: '/notifications/counts' },
      { method: 'GET', path: '/notifications?category=a&archived=all' },
      ...Object.values(CHANGE_PATHS).map((path) => ({ method: 'POST', path, body: { filter: {} } })),
      { method: 'POST', path: `/notifications/${id}/actions/a` },
    ];
    for (const route of routes) {
      for (const { name, token } of await badTokens(api.userId)) {
        const response = await httpRequest(gateway.baseUrl, route.path, { method: route.method, bearer: token, body: route.body });
        expect({ path: route.path, name, status: response.status, error: response.body.error }).toEqual({ path: route.path, name, status: 401, error: 'unauthorized' });
      }
    }
    expect(await api.counts()).toEqual({ unread: 1, unseen: 1, categories: { a: { unread: 1, unseen: 1 } }, seq: 1 });
    expect(await api.record(id!)).toMatchObject({ status: 'unread', seen_at: null, archived_at: null, actioned: null });
  });

  it('the action route refuses malformed ids and any query parameter, and records nothing', async () => {
    const api = new InboxApi(gateway, uniqueUser('bad-action'));
    const [id] = await api.publish([{ actions: [{ id: 'a', label: 'A' }] }]);
    const bearer = await gateway.token(api.userId);
    const paths: Array<[string, RegExp]> = [
      [`/notifications/${id}/actions/a%20b`, /^params\.action_id must match pattern/],
      [`/notifications/${id}/actions/${'a'.repeat(65)}`, /^params\.action_id must match pattern/],
      [`/notifications/${id}/actions/a%00`, /^params\.action_id must match pattern/],
      [`/notifications/${id}/actions/a%2Fb`, /^params\.action_id must match pattern/],
      [`/notifications/${id}/actions/caf%C3%A9`, /^params\.action_id must match pattern/],
      [`/notifications/a%00b/actions/a`, /^params\.id must match pattern/],
      [`/notifications/%ED%A0%80/actions/a`, /./],
      [`/notifications/${id}/actions/a?x=1`, /^querystring\.x is not allowed/],
      [`/notifications/${id}/actions/a?action_id=a`, /^querystring\.action_id is not allowed/],
    ];
    for (const [path, because] of paths) {
      const response = await httpRequest(gateway.baseUrl, path, { bearer, method: 'POST' });
      expect({ path, status: response.status, error: response.body.error }).toEqual({ path, status: 400, error: 'bad_request' });
      expect({ path, message: response.body.message }).toEqual({ path, message: expect.stringMatching(because) });
    }
    expect((await api.record(id!)).actioned).toBeNull();
    expect((await api.counts()).seq).toBe(1);
  });
});
