import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BroadcastBody, PublishBody } from '../../src/ingest/decode-publish.js';
import { databaseKinds } from '../helpers/databases.js';
import { startGateway, TEST_API_KEY, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { httpRequest } from '../helpers/http-request.js';
import { waitUntil } from '../helpers/wait-until.js';
import { TestClient } from '../helpers/ws-client.js';

/** An object nested `depth` levels deep: depth 1 is `{}`. */
function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < depth; i++) value = { next: value };
  return value;
}

/** A schema as /openapi.json shows it: @fastify/swagger leaves patternProperties (the payload's any-key rule) out. */
const asDocumented = (schema: unknown): unknown =>
  JSON.parse(JSON.stringify(schema), (key, value: unknown) => (key === 'patternProperties' ? undefined : value));

const note = (userId: string, payload: Record<string, unknown> = { title: 't' }, id?: string) => ({
  user_id: userId,
  type: 'new_notification',
  payload,
  ...(id !== undefined && { id }),
});

describe.each(databaseKinds)('the publish API (%s)', (kind) => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway(kind);
  });
  afterAll(() => gateway.close());

  const inbox = async (userId: string) => (await gateway.asUser(userId, '/notifications?limit=100')).body.items;
  const unread = async (userId: string) => (await gateway.asUser(userId, '/notifications/unread-count')).body.count;

  it('stores one published notification and answers with its seq and id', async () => {
    const user = uniqueUser('single');
    const response = await gateway.publish(note(user, { title: 'Deploy finished', url: '/d/1' }));
    expect(response).toEqual({
      status: 200,
      body: { accepted: 1, stored: 1, events: [{ user_id: user, seq: 1, type: 'new_notification', notification_id: expect.any(String) }] },
    });
    const items = await inbox(user);
    expect(items).toEqual([
      expect.objectContaining({
        id: response.body.events[0].notification_id,
        key: null,
        status: 'unread',
        payload: { title: 'Deploy finished', url: '/d/1' },
      }),
    ]);
    expect(await unread(user)).toBe(1);
  });

  it('stores an array for several users in order, each user with its own seq', async () => {
    const alice = uniqueUser('alice');
    const bob = uniqueUser('bob');
    const body = [
      note(alice, { n: 1 }),
      note(bob, { n: 2 }),
      { user_id: alice, type: 'task_update', payload: { action: 'created', task: { id: 1 } } },
      note(alice, { n: 3 }),
      note(bob, { n: 4 }),
    ];
    const response = await gateway.publish(body);
    expect(response.status).toBe(200);
    expect(response.body.accepted).toBe(5);
    expect(response.body.stored).toBe(5);
    expect(response.body.events.map((event: any) => [event.user_id, event.seq, event.type, typeof event.notification_id])).toEqual([
      [alice, 1, 'new_notification', 'string'],
      [bob, 1, 'new_notification', 'string'],
      [alice, 2, 'task_update', 'undefined'],
      [alice, 3, 'new_notification', 'string'],
      [bob, 2, 'new_notification', 'string'],
    ]);
    expect((await inbox(alice)).map((item: any) => item.payload.n)).toEqual([3, 1]);
    expect((await inbox(bob)).map((item: any) => item.payload.n)).toEqual([4, 2]);
    expect(await unread(alice)).toBe(2);
    expect(await unread(bob)).toBe(2);
  });

  it('stores and delivers an id once, however often it is published', async () => {
    const user = uniqueUser('idem');
    const tab = await TestClient.open(gateway.wsUrl, await gateway.token(user));
    await tab.waitForType('connected');

    const first = await gateway.publish(note(user, { title: 'once' }, 'order-42'));
    expect(first.body).toMatchObject({ accepted: 1, stored: 1 });
    const again = await gateway.publish(note(user, { title: 'a retry with another payload' }, 'order-42'));
    expect(again).toEqual({ status: 200, body: { accepted: 1, stored: 0, events: [] } });
    // In one batch too: the second item with the same id is the duplicate of the first.
    const batch = await gateway.publish([note(user, { title: 'b1' }, 'batch-1'), note(user, { title: 'b2' }, 'batch-1')]);
    expect(batch.body).toMatchObject({ accepted: 2, stored: 1, events: [{ seq: 2 }] });
    // An event without id after them: once it arrives, every earlier delivery has arrived too.
    await gateway.publish(note(user, { title: 'marker' }));

    const events = await tab.waitForSeq(3);
    expect(events.map((event) => [event.type, event.seq, event.payload.key, event.payload.payload.title])).toEqual([
      ['new_notification', 1, 'order-42', 'once'],
      ['new_notification', 2, 'batch-1', 'b1'],
      ['new_notification', 3, null, 'marker'],
    ]);
    expect(events[0]!.payload.id).toBe(first.body.events[0].notification_id);
    expect((await inbox(user)).map((item: any) => item.payload.title)).toEqual(['marker', 'b1', 'once']);
    await tab.close();
  });

  it('keeps the same id apart for two users: two events', async () => {
    const alice = uniqueUser('alice');
    const bob = uniqueUser('bob');
    const response = await gateway.publish([note(alice, {}, 'shared-id'), note(bob, {}, 'shared-id')]);
    expect(response.body).toMatchObject({ accepted: 2, stored: 2 });
    expect(response.body.events.map((event: any) => [event.user_id, event.seq])).toEqual([
      [alice, 1],
      [bob, 1],
    ]);
    const again = await gateway.publish(note(bob, {}, 'shared-id'));
    expect(again.body.stored).toBe(0);
    expect(await inbox(alice)).toHaveLength(1);
    expect(await inbox(bob)).toHaveLength(1);
  });

  it('keeps a task_update for resume but not in the inbox', async () => {
    const user = uniqueUser('task');
    const response = await gateway.publish({ user_id: user, type: 'task_update', payload: { action: 'updated', task: { id: 9, state: 'done' } } });
    expect(response.body).toEqual({ accepted: 1, stored: 1, events: [{ user_id: user, seq: 1, type: 'task_update' }] });
    expect(await inbox(user)).toEqual([]);
    expect(await unread(user)).toBe(0);

    const client = await TestClient.open(gateway.wsUrl, await gateway.token(user), 0);
    const events = await client.waitForSeq(1);
    expect(events).toEqual([{ type: 'task_update', seq: 1, payload: { action: 'updated', task: { id: 9, state: 'done' } } }]);
    await client.close();
  });

  it.each(['/publish', '/broadcast'])('%s answers 401 without the API key, with a wrong one, or with a user token', async (path) => {
    const user = uniqueUser('key');
    const body = path === '/publish' ? note(user) : { type: 'new_notification', payload: {} };
    const attempts: Array<{ name: string; headers: Record<string, string> }> = [
      { name: 'missing', headers: {} },
      { name: 'wrong', headers: { authorization: 'Bearer not-the-api-key-at-all' } },
      { name: 'key with a suffix', headers: { authorization: `Bearer ${TEST_API_KEY}x` } },
      { name: 'key without Bearer', headers: { authorization: TEST_API_KEY } },
      { name: 'user JWT', headers: { authorization: `Bearer ${await gateway.token(user)}` } },
    ];
    for (const { name, headers } of attempts) {
      const response = await httpRequest(gateway.baseUrl, path, { headers, body });
      expect({ name, status: response.status, error: response.body.error }).toEqual({ name, status: 401, error: 'unauthorized' });
    }
    expect(await inbox(user)).toEqual([]);
    const ok = await httpRequest(gateway.baseUrl, path, { bearer: TEST_API_KEY, body });
    expect(ok.status).toBe(200);
  });

  describe('bad bodies name the field', () => {
    const valid = { user_id: 'someone', type: 'new_notification', payload: {} };
    const cases: Array<{ name: string; body?: unknown; rawBody?: string; message: RegExp }> = [
      { name: 'missing user_id', body: { type: 'new_notification', payload: {} }, message: /^body\.user_id is required$/ },
      { name: 'empty user_id', body: { ...valid, user_id: '' }, message: /^body\.user_id must not have fewer than 1 characters$/i },
      { name: 'user_id a number', body: { ...valid, user_id: 123 }, message: /^body\.user_id must be string$/ },
      { name: 'user_id too long', body: { ...valid, user_id: 'u'.repeat(256) }, message: /^body\.user_id must not have more than 255 characters$/i },
      { name: 'missing type', body: { user_id: 'u', payload: {} }, message: /^body\.type is required$/ },
      {
        name: 'type bogus',
        body: { ...valid, type: 'bogus' },
        message: /^body\.type must be equal to one of the allowed values \(new_notification, task_update\)$/,
      },
      { name: 'type notification_read (not publishable)', body: { ...valid, type: 'notification_read' }, message: /^body\.type must be equal to one of the allowed values/ },
      { name: 'payload a string', body: { ...valid, payload: 'hello' }, message: /^body\.payload must be object$/ },
      { name: 'payload a number', body: { ...valid, payload: 5 }, message: /^body\.payload must be object$/ },
      { name: 'payload null', body: { ...valid, payload: null }, message: /^body\.payload must be object$/ },
      { name: 'payload an array', body: { ...valid, payload: [1, 2] }, message: /^body\.payload must be object$/ },
      { name: 'payload missing', body: { user_id: 'u', type: 'new_notification' }, message: /^body\.payload is required$/ },
      { name: 'id empty', body: { ...valid, id: '' }, message: /^body\.id must not have fewer than 1 characters$/i },
      { name: 'id a number', body: { ...valid, id: 7 }, message: /^body\.id must be string$/ },
      { name: 'an extra field', body: { ...valid, foo: 1 }, message: /^body\.foo is not allowed$/ },
      { name: 'an empty array', body: [], message: /^body must hold at least one item$/ },
      { name: '1001 items', body: Array.from({ length: 1001 }, () => valid), message: /^body must hold at most 1000 items$/ },
      {
        name: 'an array with one bad item',
        body: [valid, valid, { ...valid, type: 'nope' }, valid],
        message: /^body\[2\]\.type must be equal to one of the allowed values \(new_notification, task_update\)$/,
      },
      { name: 'an array with an item that is not an object', body: [valid, 'x'], message: /^body\[1\] must be object$/ },
      { name: 'a payload nested 33 levels', body: { ...valid, payload: nested(33) }, message: /^body is nested deeper than 32 levels$/ },
      {
        name: 'a second item nested 33 levels',
        body: [valid, { ...valid, payload: nested(33) }],
        message: /^body\[1\] is nested deeper than 32 levels$/,
      },
      { name: 'a payload nested 32 levels and a bad type', body: { ...valid, type: 'x', payload: nested(32) }, message: /^body\.type must be equal/ },
      { name: 'body not JSON', rawBody: '{"user_id": "u", ', message: /body.*JSON|JSON.*body/i },
      { name: 'body a JSON string', rawBody: '"hello"', message: /^body must be object$/ },
      { name: 'body a JSON number', rawBody: '42', message: /^body must be object$/ },
      { name: 'body null', rawBody: 'null', message: /^body must be object$/ },
      { name: 'no body', message: /body/i },
    ];

    it.each(cases)('$name → 400', async ({ body, rawBody, message }) => {
      const response = await httpRequest(gateway.baseUrl, '/publish', { method: 'POST', bearer: TEST_API_KEY, body, rawBody });
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('bad_request');
      expect(response.body.message).toMatch(message);
    });

    it('stores nothing of a batch with one bad item', async () => {
      const user = uniqueUser('batch');
      const response = await gateway.publish([note(user, { n: 1 }), note(user, { n: 2 }), { ...note(user), payload: 'x' }]);
      expect(response.status).toBe(400);
      expect(response.body.message).toBe('body[2].payload must be object');
      expect(await inbox(user)).toEqual([]);
      // The user's seq did not move either: the next event is seq 1.
      expect((await gateway.publish(note(user))).body.events[0].seq).toBe(1);
    });

    it('names the field of a bad broadcast', async () => {
      for (const [body, message] of [
        [{ type: 'bogus', payload: {} }, /^body\.type must be equal to one of the allowed values/],
        [{ type: 'new_notification' }, /^body\.payload is required$/],
        [{ type: 'new_notification', payload: 'x' }, /^body\.payload must be object$/],
        [{ type: 'new_notification', payload: {}, user_id: 'x' }, /^body\.user_id is not allowed$/],
        [{ type: 'new_notification', payload: nested(33) }, /^body\.payload is nested deeper than 32 levels$/],
        [{ type: 'bogus', payload: nested(33) }, /^body\.type must be equal to one of the allowed values/],
        [[{ type: 'new_notification', payload: {} }], /^body must be object$/],
        [null, /^body must be object$/],
        [42, /^body must be object$/],
      ] as const) {
        const response = await httpRequest(gateway.baseUrl, '/broadcast', { bearer: TEST_API_KEY, body });
        expect({ status: response.status, error: response.body.error }).toEqual({ status: 400, error: 'bad_request' });
        expect(response.body.message).toMatch(message);
      }
    });
  });

  it('documents both bodies in /openapi.json with the schemas their decoders check', async () => {
    const doc = (await httpRequest(gateway.baseUrl, '/openapi.json', { method: 'GET' })).body;
    const bodyOf = (path: string) => doc.paths[path].post.requestBody;
    // Each body is a shared schema, under components.
    const schemaOf = (path: string) => doc.components.schemas[bodyOf(path).content['application/json'].schema.$ref.replace('#/components/schemas/', '')];
    expect(bodyOf('/publish')).toMatchObject({ required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/PublishRequest' } } } });
    expect(schemaOf('/publish')).toMatchObject(asDocumented(PublishBody) as object);
    expect(bodyOf('/broadcast')).toMatchObject({ required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/BroadcastRequest' } } } });
    expect(schemaOf('/broadcast')).toMatchObject(asDocumented(BroadcastBody) as object);
  });

  it('broadcasts to every open tab of every connected user, without storing it', async () => {
    const alice = uniqueUser('alice');
    const bob = uniqueUser('bob');
    const tabs = [
      await TestClient.open(gateway.wsUrl, await gateway.token(alice)),
      await TestClient.open(gateway.wsUrl, await gateway.token(alice)),
      await TestClient.open(gateway.wsUrl, await gateway.token(bob)),
    ];
    await Promise.all(tabs.map((tab) => tab.waitForType('connected')));
    // Tabs closed by earlier tests leave the hub a moment after their close frame: wait for exactly these users.
    await waitUntil(() => gateway.herald.connectedUsers().sort().join() === [alice, bob].sort().join(), 'only alice and bob are connected');

    const response = await httpRequest(gateway.baseUrl, '/broadcast', {
      bearer: TEST_API_KEY,
      body: { type: 'new_notification', payload: { title: 'Maintenance at noon' } },
    });
    expect(response).toMatchObject({ status: 200, body: { connections: 3 } });
    for (const tab of tabs) {
      const [frame] = await tab.waitForType('new_notification');
      expect(frame).toEqual({ type: 'new_notification', broadcast: true, payload: { title: 'Maintenance at noon' } });
    }

    // Not stored: not in the inbox, no seq taken, not replayed from 0.
    expect(await inbox(alice)).toEqual([]);
    expect(await unread(bob)).toBe(0);
    const fresh = await TestClient.open(gateway.wsUrl, await gateway.token(alice), 0);
    const [connected] = await fresh.waitForType('connected');
    expect(connected!.payload).toMatchObject({ seq: 0, since: 0 });
    const marker = await gateway.publish(note(alice, { title: 'after' }));
    expect(marker.body.events[0].seq).toBe(1);
    const events = await fresh.waitForSeq(1);
    expect(events.map((event) => [event.type, event.seq, event.payload.payload.title])).toEqual([['new_notification', 1, 'after']]);
    expect(fresh.frames.some((frame) => frame.broadcast === true)).toBe(false);
    // Each old tab got exactly one broadcast.
    for (const tab of tabs) expect(tab.frames.filter((frame) => frame.broadcast === true)).toHaveLength(1);
    await Promise.all([...tabs, fresh].map((tab) => tab.close()));
  });
});

describe('the publish body limit', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway('sqlite', { env: { HERALD_MAX_BODY_BYTES: '2048' } });
  });
  afterAll(() => gateway.close());

  it('answers 413 to a body over HERALD_MAX_BODY_BYTES and stores nothing of it', async () => {
    const user = uniqueUser('big');
    const small = note(user, { text: 'x'.repeat(1500) });
    expect(JSON.stringify(small).length).toBeLessThan(2048);
    expect((await gateway.publish(small)).status).toBe(200);

    const big = note(user, { text: 'x'.repeat(2100) });
    const response = await gateway.publish(big);
    expect(response.status).toBe(413);
    expect(response.body).toEqual({ error: 'payload_too_large', message: expect.stringContaining('HERALD_MAX_BODY_BYTES') });
    const items = (await gateway.asUser(user, '/notifications')).body.items;
    expect(items).toHaveLength(1);
    expect(items[0].payload.text).toHaveLength(1500);
  });

  it('applies the same limit to the user API', async () => {
    const user = uniqueUser('big-read');
    const response = await gateway.asUser(user, '/notifications/mark-read', { body: { notification_ids: ['x'.repeat(200)].concat(Array(20).fill('y'.repeat(200))) } });
    expect(response.status).toBe(413);
    expect(response.body.error).toBe('payload_too_large');
  });
});
