import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { TestClient, type Frame } from '../helpers/ws-client.js';

const MAX_MESSAGE_BYTES = 1024;

describe('client frames', () => {
  let gateway: TestGateway;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    gateway = await startGateway('sqlite', { env: { HERALD_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES) } });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(() => gateway.close());

  async function connect(user = uniqueUser('frames')): Promise<TestClient> {
    const client = await TestClient.open(gateway.wsUrl, await gateway.token(user));
    clients.push(client);
    await client.waitForType('connected');
    return client;
  }

  /** Sends one frame and returns the next frame the server answers with (no pings: the interval is 30 s). */
  async function answerTo(client: TestClient, frame: string | Buffer): Promise<Frame> {
    const before = client.frames.length;
    client.ws.send(frame);
    await client.waitFor((frames) => frames.length > before, 5000, `an answer to ${String(frame).slice(0, 60)}`);
    return client.frames[before]!;
  }

  it('answers a client ping with a pong', async () => {
    const client = await connect();
    expect(await answerTo(client, JSON.stringify({ type: 'ping', payload: {} }))).toEqual({ type: 'pong', payload: {} });
    // The payload is optional.
    expect(await answerTo(client, JSON.stringify({ type: 'ping' }))).toEqual({ type: 'pong', payload: {} });
  });

  it('does not answer a client pong', async () => {
    const client = await connect();
    client.send({ type: 'pong', payload: {} });
    // A ping sent after it is answered first: nothing came back for the pong.
    const answer = await answerTo(client, JSON.stringify({ type: 'ping' }));
    expect(answer).toEqual({ type: 'pong', payload: {} });
    expect(client.frames.map((frame) => frame.type)).toEqual(['connected', 'pong']);
  });

  const bad: Array<{ name: string; frame: string; code: string }> = [
    { name: 'malformed JSON', frame: '{"type": "ping"', code: 'invalid_json' },
    { name: 'not JSON at all', frame: 'hello', code: 'invalid_json' },
    { name: 'an empty text frame', frame: '', code: 'invalid_json' },
    { name: 'a JSON array', frame: '[{"type":"ping"}]', code: 'invalid_frame' },
    { name: 'a JSON number', frame: '42', code: 'invalid_frame' },
    { name: 'a JSON string', frame: '"ping"', code: 'invalid_frame' },
    { name: 'JSON null', frame: 'null', code: 'invalid_frame' },
    { name: 'an object without type', frame: '{"payload":{}}', code: 'invalid_frame' },
    { name: 'a non-string type', frame: '{"type":7,"payload":{}}', code: 'invalid_frame' },
    { name: 'an unknown type', frame: '{"type":"subscribe","payload":{}}', code: 'unknown_type' },
    { name: 'a server-only type', frame: '{"type":"new_notification","payload":{}}', code: 'unknown_type' },
    { name: 'a ping with a non-object payload', frame: '{"type":"ping","payload":"x"}', code: 'invalid_frame' },
    { name: 'resume without payload', frame: '{"type":"resume"}', code: 'invalid_frame' },
    { name: 'resume without since', frame: '{"type":"resume","payload":{}}', code: 'invalid_frame' },
    { name: 'resume with a string since', frame: '{"type":"resume","payload":{"since":"3"}}', code: 'invalid_frame' },
    { name: 'resume with a negative since', frame: '{"type":"resume","payload":{"since":-1}}', code: 'invalid_frame' },
    { name: 'resume with a fractional since', frame: '{"type":"resume","payload":{"since":1.5}}', code: 'invalid_frame' },
  ];

  it.each(bad)('answers $name with an error frame ($code) and keeps the connection', async ({ frame, code }) => {
    const client = await connect();
    const answer = await answerTo(client, frame);
    expect(answer.type).toBe('error');
    expect(answer.payload.code).toBe(code);
    expect(typeof answer.payload.message).toBe('string');
    expect(answer.payload.message.length).toBeGreaterThan(0);
    expect(await answerTo(client, JSON.stringify({ type: 'ping' }))).toEqual({ type: 'pong', payload: {} });
    expect(client.ws.readyState).toBe(client.ws.OPEN);
  });

  it('answers a binary frame with an invalid_frame error and keeps the connection', async () => {
    const client = await connect();
    // Valid JSON, so only its being binary can be the reason.
    const answer = await answerTo(client, Buffer.from(JSON.stringify({ type: 'ping' })));
    expect(answer).toMatchObject({ type: 'error', payload: { code: 'invalid_frame' } });
    expect(await answerTo(client, JSON.stringify({ type: 'ping' }))).toEqual({ type: 'pong', payload: {} });
  });

  it('keeps delivering events after a run of bad frames', async () => {
    const user = uniqueUser('after-bad');
    const client = await connect(user);
    for (const { frame } of bad) client.ws.send(frame);
    await client.waitForType('error', bad.length);
    await gateway.publish({ user_id: user, type: 'new_notification', payload: { title: 'still here' } });
    const events = await client.waitForSeq(1);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'new_notification', seq: 1, payload: { payload: { title: 'still here' } } });
    expect(client.frames.filter((frame) => frame.type === 'error')).toHaveLength(bad.length);
  });

  it('takes a frame just under HERALD_MAX_MESSAGE_BYTES', async () => {
    const client = await connect();
    const frame = JSON.stringify({ type: 'ping', payload: { pad: 'x'.repeat(MAX_MESSAGE_BYTES - 40) } });
    expect(frame.length).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(await answerTo(client, frame)).toEqual({ type: 'pong', payload: {} });
  });

  it('closes with 1009 on a frame over HERALD_MAX_MESSAGE_BYTES and removes the connection', async () => {
    const user = uniqueUser('big');
    const client = await connect(user);
    expect(gateway.herald.isConnected(user)).toBe(true);
    client.send({ type: 'ping', payload: { pad: 'x'.repeat(MAX_MESSAGE_BYTES * 2) } });
    const closed = await client.closed;
    expect(closed.code).toBe(1009);
    expect(client.frames.map((frame) => frame.type)).toEqual(['connected']);
    await expect.poll(() => gateway.herald.isConnected(user)).toBe(false);
  });

  it('closes with 1008 when the since query value is not a non-negative integer', async () => {
    const user = uniqueUser('since');
    for (const since of ['abc', '-1', '1.5', '1e3', '0x10']) {
      const query = new URLSearchParams({ token: await gateway.token(user), since });
      const client = await TestClient.connect(`${gateway.wsUrl}?${query}`);
      const closed = await client.closed;
      expect({ since, code: closed.code }).toEqual({ since, code: 1008 });
      expect(client.frames).toEqual([]);
    }
    expect(gateway.herald.isConnected(user)).toBe(false);
  });
});
