import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handshakeProtocols } from '@herald/protocol';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/mint-token.js';
import { startGateway, TEST_API_KEY, TEST_SECRET, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { startHerald, type HeraldProcess } from '../helpers/herald-process.js';
import { clientFrame, rawConnection } from '../helpers/raw-http.js';
import { TestClient } from '../helpers/ws-client.js';
import { waitUntil } from '../helpers/wait-until.js';

describe('attacks on the transport', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway('sqlite', { env: { HERALD_HEADERS_TIMEOUT_MS: '1000', HERALD_MAX_BODY_BYTES: String(1024 * 1024) } });
  });
  afterAll(() => gateway.close());

  async function openTab(user = uniqueUser('tab')): Promise<TestClient> {
    const client = await TestClient.connect(gateway.wsUrl, { protocols: handshakeProtocols(await gateway.token(user)) });
    await client.waitForType('connected');
    return client;
  }

  it('reassembles a text frame sent in fragments', async () => {
    const client = await openTab();
    const text = JSON.stringify({ type: 'ping', payload: {} });
    const ws = client.ws as WebSocket;
    ws.send(text.slice(0, 5), { fin: false });
    ws.send(text.slice(5, 12), { fin: false });
    ws.send(text.slice(12), { fin: true });
    await client.waitForType('pong');
    await client.close();
  });

  it('closes with 1007 on a text frame that is not UTF-8, and the user can connect again', async () => {
    const client = await openTab();
    (client.ws as WebSocket).send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect((await client.closed).code).toBe(1007);
    const again = await openTab();
    await again.close();
  });

  it('closes with 1002 on a control frame over 125 bytes and on a fragmented control frame', async () => {
    for (const frame of [clientFrame(0x9, Buffer.alloc(200, 0x61)), clientFrame(0x9, Buffer.from('hi'), false)]) {
      const client = await openTab();
      const socket = (client.ws as unknown as { _socket: import('node:net').Socket })._socket;
      socket.write(frame);
      expect((await client.closed).code).toBe(1002);
    }
  });

  it('answers deeply nested JSON frames with an error and keeps the connection', async () => {
    const client = await openTab();
    const depth = 30_000;
    client.send('['.repeat(depth) + ']'.repeat(depth));
    client.send(`{"type":"resume","payload":{"since":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}}`);
    const errors = await client.waitForType('error', 2);
    expect(errors.map((frame) => frame.payload.code)).toEqual(['invalid_frame', 'invalid_frame']);
    client.send({ type: 'ping', payload: {} });
    await client.waitForType('pong');
    await client.close();
  });

  it.each([
    ['/publish', (user: string, nested: string) => `{"user_id":"${user}","type":"new_notification","payload":${nested}}`],
    ['/publish', (user: string, nested: string) => `[{"user_id":"${user}","type":"task_update","payload":${nested}}]`],
    ['/broadcast', (_user: string, nested: string) => `{"type":"new_notification","payload":${nested}}`],
  ])('refuses a payload nested 20,000 deep on %s with a 400 that says so, and keeps serving', async (path, body) => {
    const user = uniqueUser('nested');
    const depth = 20_000;
    const response = await fetch(`${gateway.baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: body(user, `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
    });
    expect(response.status).toBe(400);
    expect((await response.json()).message).toMatch(/nested deeper than 32 levels/);
    // At the bound itself the payload is taken.
    const atBound = JSON.parse(`${'{"a":'.repeat(32)}1${'}'.repeat(32)}`);
    const after = await gateway.publish({ user_id: user, type: 'new_notification', payload: atBound });
    expect(after.status).toBe(200);
  });

  it('answers 413 to a 100 MB publish as soon as the declared length is read, before the body', async () => {
    const raw = await rawConnection(gateway.baseUrl);
    raw.socket.write(
      `POST /publish HTTP/1.1\r\nHost: herald\r\nAuthorization: Bearer ${TEST_API_KEY}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n`,
    );
    await waitUntil(() => raw.received().includes('\r\n\r\n'), 'the response head');
    expect(raw.received()).toMatch(/^HTTP\/1\.1 413 /);
    raw.socket.destroy();
  });

  it('stops reading a chunked publish body at the limit, with 413, long before 100 MB', async () => {
    const raw = await rawConnection(gateway.baseUrl);
    raw.socket.write(
      `POST /publish HTTP/1.1\r\nHost: herald\r\nAuthorization: Bearer ${TEST_API_KEY}\r\n` +
        `Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
    );
    const chunk = Buffer.concat([Buffer.from('10000\r\n'), Buffer.alloc(0x10000, 0x20), Buffer.from('\r\n')]);
    let sent = 0;
    const answered = () => raw.received().includes('\r\n\r\n') || raw.socket.destroyed;
    while (!answered() && sent < 100 * 1024 * 1024) {
      if (!raw.socket.write(chunk)) {
        // A server that stopped reading never drains the socket: the answer or the close ends the wait.
        await Promise.race([new Promise((resolve) => raw.socket.once('drain', resolve)), raw.closed, waitUntil(answered, 'an answer', 15_000)]);
      }
      sent += chunk.length;
    }
    expect(raw.received()).toMatch(/^HTTP\/1\.1 413 /);
    // The limit is 1 MB; socket buffers on both sides account for the rest.
    expect(sent).toBeLessThan(20 * 1024 * 1024);
    raw.socket.destroy();
  });

  it('keeps delivering to a connected user, in order, while a flood of bad handshakes is refused', async () => {
    const user = uniqueUser('steady');
    const tab = await openTab(user);
    const forged = `${(await gateway.token(uniqueUser('flood'))).slice(0, -4)}AAAA`;
    const attempt = async (): Promise<string> => {
      try {
        const client = await TestClient.connect(gateway.wsUrl, { protocols: handshakeProtocols(forged) });
        return `close ${(await client.closed).code}`;
      } catch (error) {
        return (error as Error).message;
      }
    };
    const flood = Promise.all(Array.from({ length: 400 }, attempt));
    for (let n = 1; n <= 20; n++) await gateway.publish({ user_id: user, type: 'new_notification', payload: { n } });
    const outcomes = await flood;
    const events = await tab.waitForSeq(20);
    expect(events.map((frame) => frame.payload.payload.n)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // Each refused, either by the token check or by the handshake budget; none admitted.
    expect(outcomes.every((outcome) => outcome === 'close 4001' || outcome === 'HTTP 503')).toBe(true);
    expect(gateway.herald.connectedUsers().filter((connected) => connected.startsWith('flood-'))).toEqual([]);
    expect(gateway.herald.connectedUsers()).toContain(user);
    await tab.close();
  });

  it('drops an upgrade request whose headers trickle in slower than HERALD_HEADERS_TIMEOUT_MS', async () => {
    const raw = await rawConnection(gateway.baseUrl);
    raw.socket.write('GET /ws/notifications HTTP/1.1\r\nHost: herald\r\n');
    const trickle = setInterval(() => raw.socket.write('X-Slow: 1\r\n'), 200);
    try {
      const outcome = await Promise.race([
        raw.closed.then(() => 'closed'),
        new Promise((resolve) => setTimeout(() => resolve('still open'), 8000)),
      ]);
      expect(outcome).toBe('closed');
      expect(raw.received()).toMatch(/^(HTTP\/1\.1 408 |$)/);
    } finally {
      clearInterval(trickle);
      raw.socket.destroy();
    }
  });
});

describe('protocol errors on refused WebSockets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-refused-'));
  let child: HeraldProcess;
  let url: string;
  beforeAll(async () => {
    ({ child, url } = await startHerald(dir, {
      HERALD_JWT_SECRET: TEST_SECRET,
      HERALD_API_KEY: TEST_API_KEY,
      HERALD_MAX_CONNECTIONS_PER_USER: '1',
    }));
  });
  afterAll(async () => {
    child.kill('SIGTERM');
    await child.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Upgrades by hand, then sends an unmasked frame (a protocol error) while the server is closing the socket. */
  async function refusedThenUnmasked(query: string): Promise<string> {
    const raw = await rawConnection(url);
    raw.socket.write(
      `GET /ws/notifications?${query} HTTP/1.1\r\nHost: herald\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: herald.v1\r\n\r\n',
    );
    await waitUntil(() => raw.received().includes('\r\n\r\n'), 'the upgrade answer');
    raw.socket.write(Buffer.from([0x81, 0x01, 0x41]));
    await raw.closed;
    return raw.received().split('\r\n')[0]!;
  }

  it('survives a refused client that breaks the protocol: bad token, bad since, a limit', async () => {
    const user = uniqueUser('refused');
    const token = await mintToken(TEST_SECRET, user);
    const first = await TestClient.connect(`${url.replace('http', 'ws')}/ws/notifications`, { protocols: handshakeProtocols(token) });
    await first.waitForType('connected');
    for (const query of ['token=bogus', `token=${token}&since=-1`, `token=${token}`]) {
      expect(await refusedThenUnmasked(query)).toBe('HTTP/1.1 101 Switching Protocols');
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    }
    await first.close();
    expect(child.output).not.toContain('WS_ERR_EXPECTED_MASK');
  });
});
