import type { Socket } from 'node:net';
import { CloseCode } from '@herald/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { metricValue } from '../helpers/metric-value.js';
import { TestClient } from '../helpers/ws-client.js';

const PER_SECOND = 20;
const BURST = 10;
const FLOOD = 5000;
const PING = JSON.stringify({ type: 'ping', payload: {} });

describe('inbound frame limit (HERALD_MAX_FRAMES_PER_SECOND, HERALD_FRAME_BURST)', () => {
  let gateway: TestGateway;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    gateway = await startGateway('sqlite', {
      env: { HERALD_MAX_FRAMES_PER_SECOND: String(PER_SECOND), HERALD_FRAME_BURST: String(BURST) },
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(() => gateway.close());

  async function openTab(user = uniqueUser('rate')): Promise<TestClient> {
    const client = await TestClient.open(gateway.wsUrl, await gateway.token(user));
    clients.push(client);
    await client.waitForType('connected');
    return client;
  }

  const frameRateDrops = () => metricValue(gateway.baseUrl, 'herald_drops_total', { reason: 'frame_rate' });
  const typesOf = (client: TestClient, type: string) => client.frames.filter((frame) => frame.type === type);

  it('answers every frame sent within the rate for several seconds, far past the burst', async () => {
    const client = await openTab();
    const pings = 45;
    // One ping every 70 ms (14 a second) for over 3 s: 4.5 bursts' worth, all refilled in time.
    for (let sent = 0; sent < pings; sent++) {
      client.send(PING);
      await new Promise((resolve) => setTimeout(resolve, 70));
    }
    await client.waitForType('pong', pings);
    expect(typesOf(client, 'pong')).toHaveLength(pings);
    expect(client.ws.readyState).toBe(client.ws.OPEN);
  });

  it('takes a burst of exactly HERALD_FRAME_BURST frames at once', async () => {
    const client = await openTab();
    for (let sent = 0; sent < BURST; sent++) client.send(PING);
    await client.waitForType('pong', BURST);
    // Still open: a ping after the bucket refilled one frame is answered too.
    await new Promise((resolve) => setTimeout(resolve, 1000 / PER_SECOND + 20));
    client.send(PING);
    await client.waitForType('pong', BURST + 1);
    expect(client.ws.readyState).toBe(client.ws.OPEN);
  });

  it('closes with 4030 on the frame after the burst, answers none after it, counts the drop and frees the slot', async () => {
    const user = uniqueUser('over');
    const client = await openTab(user);
    const dropsBefore = await frameRateDrops();
    for (let sent = 0; sent <= BURST; sent++) client.send(PING);
    expect(await client.closed).toEqual({ code: CloseCode.TooManyFrames, reason: 'Too many frames' });
    expect(typesOf(client, 'pong')).toHaveLength(BURST);
    expect(await frameRateDrops()).toBe(dropsBefore + 1);
    await expect.poll(() => gateway.herald.isConnected(user)).toBe(false);
    // A reconnect starts with a full bucket.
    const again = await openTab(user);
    again.send(PING);
    await again.waitForType('pong');
  });

  it("stops reading a flooder's socket once it is closed: the rest of a flood in flight is never parsed", async () => {
    const serverSockets: Socket[] = [];
    const onConnection = (socket: Socket) => serverSockets.push(socket);
    gateway.herald.app.server.on('connection', onConnection);
    try {
      const flooder = await openTab();
      const clientSocket = (flooder.ws as unknown as { _socket: Socket })._socket;
      const serverSocket = serverSockets.find((socket) => socket.remotePort === clientSocket.localPort)!;
      expect(serverSocket).toBeDefined();
      // 32 MB in 1,000 frames of 32 KB, written at once: ws would parse them all to reach the client's answer.
      const frame = JSON.stringify({ type: 'ping', payload: { pad: 'x'.repeat(32 * 1024) } });
      for (let sent = 0; sent < 1000; sent++) flooder.ws.send(frame);
      expect((await flooder.closed).code).toBe(CloseCode.TooManyFrames);
      expect(typesOf(flooder, 'pong')).toHaveLength(BURST);
      // What was read before reading stopped: a few reads of 64 KB, not the 32 MB.
      expect(serverSocket.bytesRead).toBeLessThan(4 * 1024 * 1024);
    } finally {
      gateway.herald.app.server.off('connection', onConnection);
    }
  });

  /**
   * One kind of flood: what the flooder sends, and how many answers at most reach it (each frame Herald handled is
   * answered at most once; all FLOOD frames would be answered without the limit).
   */
  interface Flood {
    name: string;
    send(flooder: TestClient): void;
    answers(flooder: TestClient): number;
    /** Answers that may come back at most: the BURST frames handled, and anything the protocol adds to them. */
    most: number;
    /** Whether exactly `most` come back: each handled frame is answered at once, before the close frame. */
    exact?: boolean;
  }

  const sendAll = (frame: string | Buffer) => (flooder: TestClient) => {
    for (let sent = 0; sent < FLOOD; sent++) flooder.ws.send(frame);
  };
  const errors = (flooder: TestClient) => typesOf(flooder, 'error').length;
  const floods: Flood[] = [
    { name: 'JSON pings', send: sendAll(PING), answers: (flooder) => typesOf(flooder, 'pong').length, most: BURST, exact: true },
    { name: 'invalid JSON', send: sendAll('{"type":'), answers: errors, most: BURST, exact: true },
    { name: 'binary frames', send: sendAll(Buffer.from(PING)), answers: errors, most: BURST, exact: true },
    { name: 'empty text frames', send: sendAll(''), answers: errors, most: BURST, exact: true },
    { name: 'unknown types', send: sendAll('{"type":"subscribe"}'), answers: errors, most: BURST, exact: true },
    // The flooder's user has 3 stored events: each resume that is handled replays them.
    { name: 'resume frames', send: sendAll('{"type":"resume","payload":{"since":0}}'), answers: (flooder) => flooder.events.length, most: BURST * 3 },
    // Bad tokens: each refresh that is handled is verified, refused and answered with an error frame.
    { name: 'refresh frames', send: sendAll('{"type":"refresh","payload":{"token":"not-a-token"}}'), answers: errors, most: BURST },
    {
      name: 'WebSocket pings (control frames)',
      send: (flooder) => {
        for (let sent = 0; sent < FLOOD; sent++) flooder.ws.ping();
      },
      answers: (flooder) => (flooder as TestClient & { pongs: number }).pongs,
      // ws answers a control ping itself before Herald sees it: the one that closes the connection is answered too.
      most: BURST + 1,
    },
    {
      name: 'WebSocket pongs (control frames)',
      send: (flooder) => {
        for (let sent = 0; sent < FLOOD; sent++) flooder.ws.pong();
      },
      answers: () => 0,
      most: 0,
    },
  ];

  it.each(floods)("closes a tab flooding $name with 4030 while another user's tab receives every event", async (flood) => {
    const victimUser = uniqueUser('victim');
    const victim = await openTab(victimUser);
    const flooderUser = uniqueUser('flooder');
    for (let event = 1; event <= 3; event++) {
      expect((await gateway.publish({ user_id: flooderUser, type: 'new_notification', payload: { event } })).status).toBe(200);
    }
    const flooder = Object.assign(await openTab(flooderUser), { pongs: 0 });
    flooder.ws.on('pong', () => flooder.pongs++);
    const dropsBefore = await frameRateDrops();
    const authFailuresBefore = await metricValue(gateway.baseUrl, 'herald_auth_failures_total');

    flood.send(flooder);
    const events = 20;
    for (let event = 1; event <= events; event++) {
      expect((await gateway.publish({ user_id: victimUser, type: 'new_notification', payload: { event } })).status).toBe(200);
    }

    expect(await flooder.closed).toEqual({ code: CloseCode.TooManyFrames, reason: 'Too many frames' });
    await victim.waitForSeq(events);
    expect(victim.events.map((frame) => frame.seq)).toEqual(Array.from({ length: events }, (_, index) => index + 1));
    expect(victim.ws.readyState).toBe(victim.ws.OPEN);
    if (flood.exact) expect(flood.answers(flooder)).toBe(flood.most);
    else expect(flood.answers(flooder)).toBeLessThanOrEqual(flood.most);
    expect(await frameRateDrops()).toBe(dropsBefore + 1);
    if (flood.name === 'refresh frames') {
      // Verified BURST times, not FLOOD times: the frames after the close were not handled.
      await expect.poll(() => metricValue(gateway.baseUrl, 'herald_auth_failures_total')).toBe(authFailuresBefore + BURST);
    }
    await expect.poll(() => gateway.herald.isConnected(flooderUser)).toBe(false);
  });
});
