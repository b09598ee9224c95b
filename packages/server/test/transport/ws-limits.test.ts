import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { heldJwks } from '../helpers/held-jwks.js';
import { metricValue } from '../helpers/metric-value.js';
import { waitUntil } from '../helpers/wait-until.js';
import { TestClient, type Frame } from '../helpers/ws-client.js';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);
const seqs = (events: Frame[]) => events.map((event) => event.seq);

/** Tracks clients so that each test's afterEach closes what it opened. */
function clientPool() {
  const clients: TestClient[] = [];
  return {
    track<T extends TestClient>(client: T): T {
      clients.push(client);
      return client;
    },
    closeAll: () => Promise.all(clients.splice(0).map((client) => client.close())),
  };
}

describe('connections per user, origins and paths', () => {
  let gateway: TestGateway;
  const pool = clientPool();
  beforeAll(async () => {
    gateway = await startGateway('sqlite', {
      env: { HERALD_MAX_CONNECTIONS_PER_USER: '3', HERALD_ALLOWED_ORIGINS: 'https://app.example.com, http://localhost:3000' },
    });
  });
  afterEach(() => pool.closeAll());
  afterAll(() => gateway.close());

  async function open(user: string, options: { origin?: string } = {}): Promise<TestClient> {
    const query = new URLSearchParams({ token: await gateway.token(user) });
    return pool.track(await TestClient.connect(`${gateway.wsUrl}?${query}`, options));
  }

  it('closes the connection past HERALD_MAX_CONNECTIONS_PER_USER with 4029 while the first ones keep working', async () => {
    const user = uniqueUser('many-tabs');
    const refusedBefore = await metricValue(gateway.baseUrl, 'herald_refused_connections_total', { reason: 'limit' });
    const tabs = [await open(user), await open(user), await open(user)];
    await Promise.all(tabs.map((tab) => tab.waitForType('connected')));
    const extra = await open(user);
    expect(await extra.closed).toEqual({ code: 4029, reason: 'Too many connections for this user' });
    expect(extra.frames).toEqual([]);
    expect(await metricValue(gateway.baseUrl, 'herald_refused_connections_total', { reason: 'limit' })).toBe(refusedBefore + 1);

    // Another user is not limited by this one's tabs.
    const other = await open(uniqueUser('other'));
    await other.waitForType('connected');

    await gateway.publish({ user_id: user, type: 'new_notification', payload: { title: 'to all three' } });
    for (const tab of tabs) {
      expect(seqs(await tab.waitForSeq(1))).toEqual([1]);
      expect(tab.ws.readyState).toBe(tab.ws.OPEN);
    }

    // Closing a tab frees its place (once the server has seen the close: 2 tabs and the other user remain).
    await tabs[0]!.close();
    await expect.poll(() => metricValue(gateway.baseUrl, 'herald_connections')).toBe(3);
    const replacement = await open(user);
    const [connected] = await replacement.waitForType('connected');
    expect(connected?.payload).toMatchObject({ user_id: user, seq: 1 });
  });

  it('accepts an allowed Origin, refuses any other with HTTP 403, and accepts a client without Origin', async () => {
    const user = uniqueUser('origin');
    for (const origin of ['https://app.example.com', 'http://localhost:3000']) {
      const client = await open(user, { origin });
      const [connected] = await client.waitForType('connected');
      expect(connected?.payload.user_id).toBe(user);
      await client.close();
    }
    for (const origin of ['https://evil.example.com', 'https://app.example.com.evil.example', 'http://app.example.com', 'null']) {
      await expect(open(user, { origin })).rejects.toThrow('HTTP 403');
    }
    const noOrigin = await open(user);
    await noOrigin.waitForType('connected');
    expect(gateway.herald.isConnected(user)).toBe(true);
  });

  it('answers HTTP 404 to an upgrade on any other path', async () => {
    const token = await gateway.token(uniqueUser('path'));
    const base = gateway.wsUrl.replace('/ws/notifications', '');
    for (const path of ['/ws', '/ws/notification', '/ws/notifications/extra', '/', '/notifications']) {
      await expect(TestClient.connect(`${base}${path}?token=${token}`)).rejects.toThrow('HTTP 404');
    }
    // The same token on the right path works (control).
    const client = pool.track(await TestClient.connect(`${gateway.wsUrl}?token=${token}`));
    await client.waitForType('connected');
  });
});

describe('connections per address', () => {
  let gateway: TestGateway;
  const pool = clientPool();
  beforeAll(async () => {
    gateway = await startGateway('sqlite', { env: { HERALD_MAX_CONNECTIONS_PER_ADDRESS: '3' } });
  });
  afterEach(() => pool.closeAll());
  afterAll(() => gateway.close());

  it('closes the connection past HERALD_MAX_CONNECTIONS_PER_ADDRESS with 4029, whatever the user', async () => {
    const users = [uniqueUser('a'), uniqueUser('b'), uniqueUser('c')];
    const tabs = await Promise.all(users.map(async (user) => pool.track(await TestClient.open(gateway.wsUrl, await gateway.token(user)))));
    await Promise.all(tabs.map((tab) => tab.waitForType('connected')));
    const fourth = uniqueUser('d');
    const extra = pool.track(await TestClient.open(gateway.wsUrl, await gateway.token(fourth)));
    expect(await extra.closed).toEqual({ code: 4029, reason: 'Too many connections from this address' });
    expect(gateway.herald.isConnected(fourth)).toBe(false);

    for (const [index, user] of users.entries()) {
      await gateway.publish({ user_id: user, type: 'task_update', payload: { action: 'ping', task: { index } } });
      const events = await tabs[index]!.waitForSeq(1);
      expect(events).toEqual([{ type: 'task_update', seq: 1, payload: { action: 'ping', task: { index } } }]);
    }

    // Once one of them leaves, the address has room again.
    await tabs[0]!.close();
    await expect.poll(() => gateway.herald.isConnected(users[0]!)).toBe(false);
    const later = pool.track(await TestClient.open(gateway.wsUrl, await gateway.token(fourth)));
    const [connected] = await later.waitForType('connected');
    expect(connected?.payload.user_id).toBe(fourth);
  });
});

describe('slow consumers', () => {
  const BOUND = 64 * 1024;
  /** A notification of ~16 KB: a quarter of the bound, so a reading client never comes near it. */
  const bigPayload = (n: number) => ({ n, body: 'x'.repeat(16 * 1024) });
  let gateway: TestGateway;
  const pool = clientPool();
  beforeAll(async () => {
    // A body may be no larger than the bound allows to deliver (start-up checks it): these suites publish through the
    // library, whose batches of 16 KB items are larger than such a body.
    gateway = await startGateway('sqlite', { env: { HERALD_MAX_BUFFERED_BYTES: String(BOUND), HERALD_MAX_BODY_BYTES: String(BOUND - 1024) } });
  });
  afterEach(() => pool.closeAll());
  afterAll(() => gateway.close());

  async function open(user: string, since?: number): Promise<TestClient> {
    const client = pool.track(await TestClient.open(gateway.wsUrl, await gateway.token(user), since));
    await client.waitForType('connected');
    return client;
  }

  it('closes a tab that stops reading with 4008, while its user\'s other tab and other users get every event', async () => {
    const user = uniqueUser('slow');
    const bystander = uniqueUser('bystander');
    const slow = await open(user);
    const healthy = await open(user);
    const other = await open(bystander);
    const slowDropsBefore = await metricValue(gateway.baseUrl, 'herald_drops_total', { reason: 'slow_consumer' });
    const socket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();

    // Publish until the server gives up on the paused tab (kernel buffers absorb a few MB first), then some more.
    let published = 0;
    let otherPublished = 0;
    const round = async () => {
      const items = Array.from({ length: 20 }, () => ({ user_id: user, type: 'new_notification', payload: bigPayload(++published) }));
      items.push({ user_id: bystander, type: 'new_notification', payload: { n: ++otherPublished, body: 'small' } });
      await gateway.herald.publish(items as never);
    };
    let slowDrops = slowDropsBefore;
    for (let rounds = 0; slowDrops === slowDropsBefore; rounds++) {
      // 150 rounds are 48 MB: far past any kernel buffer; stop rather than loop forever if nothing happens.
      expect(rounds).toBeLessThan(150);
      await round();
      slowDrops = await metricValue(gateway.baseUrl, 'herald_drops_total', { reason: 'slow_consumer' });
    }
    expect(slowDrops).toBe(slowDropsBefore + 1);
    for (let extra = 0; extra < 3; extra++) await round();

    const healthyEvents = await healthy.waitForSeq(published, 20_000);
    expect(seqs(healthyEvents)).toEqual(range(1, published));
    expect(healthyEvents.map((event) => event.payload.payload.n)).toEqual(range(1, published));
    expect(healthy.ws.readyState).toBe(healthy.ws.OPEN);
    const otherEvents = await other.waitForSeq(otherPublished, 20_000);
    expect(seqs(otherEvents)).toEqual(range(1, otherPublished));

    // Reading again, the slow tab finds a gapless prefix of the stream and then the slow-consumer close.
    socket.resume();
    const closed = await slow.closed;
    expect(closed).toEqual({ code: 4008, reason: 'Slow consumer: too much unsent data' });
    const received = slow.events;
    // How many got out before the bound depends on the kernel's socket buffers: only the bounds are known.
    expect(received.length).toBeGreaterThan(0);
    expect(received.length).toBeLessThan(published);
    expect(seqs(received)).toEqual(range(1, received.length));
    await expect.poll(() => metricValue(gateway.baseUrl, 'herald_connections')).toBe(2);

    // It resumes from its last seq on a new connection and gets the rest, nothing twice.
    const back = await open(user, received.length);
    const rest = await back.waitForSeq(published, 20_000);
    expect(seqs([...received, ...rest])).toEqual(range(1, published));
  });

  it('replays a backlog many times the bound to a reading client without calling it slow, then live events', async () => {
    const user = uniqueUser('backlog');
    // 500 × 16 KB = 8 MB: more than loopback's kernel buffers take at once, and 128 times the bound.
    const total = 500;
    for (let from = 1; from <= total; from += 50) {
      await gateway.herald.publish(range(from, from + 49).map((n) => ({ user_id: user, type: 'new_notification' as const, payload: bigPayload(n) })));
    }
    const slowDropsBefore = await metricValue(gateway.baseUrl, 'herald_drops_total', { reason: 'slow_consumer' });
    const client = pool.track(await TestClient.open(gateway.wsUrl, await gateway.token(user), 0));
    // Live events arrive while the replay is under way.
    await gateway.herald.publish(range(1, 5).map((n) => ({ user_id: user, type: 'task_update' as const, payload: { action: 'live', task: { n } } })));
    const outcome = await Promise.race([
      client.waitForSeq(total + 5, 20_000).then(() => 'complete'),
      client.closed.then((closed) => `closed ${closed.code} ${closed.reason}`),
    ]);
    expect(outcome).toBe('complete');
    expect(seqs(client.events)).toEqual(range(1, total + 5));
    expect(await metricValue(gateway.baseUrl, 'herald_drops_total', { reason: 'slow_consumer' })).toBe(slowDropsBefore);
  });

  it('a resume frame during a long replay restarts the replay from the new since', async () => {
    const user = uniqueUser('resume-during-replay');
    const total = 500;
    for (let from = 1; from <= total; from += 50) {
      await gateway.herald.publish(range(from, from + 49).map((n) => ({ user_id: user, type: 'new_notification' as const, payload: bigPayload(n) })));
    }
    const client = pool.track(await TestClient.open(gateway.wsUrl, await gateway.token(user), 0));
    // Mid-replay (the 8 MB replay is paced by the client's reading), ask for everything after 5 again.
    await client.waitForSeq(50, 20_000);
    client.send({ type: 'resume', payload: { since: 5 } });
    // What went out before the resume was handled (1..k, k >= 50), then the resume's own replay: 6..total.
    const restart = (received: number[]) => received.findIndex((seq, index) => index > 0 && seq <= received[index - 1]!);
    const replayed = range(6, total);
    await client.waitFor(
      () => {
        const received = seqs(client.events) as number[];
        const at = restart(received);
        return at > 0 && received.length - at >= replayed.length;
      },
      15_000,
      'the replay to start over after the resume',
    );
    const received = seqs(client.events) as number[];
    const at = restart(received);
    expect(received.slice(0, at)).toEqual(range(1, at));
    expect(at).toBeGreaterThanOrEqual(50);
    expect(received.slice(at)).toEqual(replayed);
    expect(client.ws.readyState).toBe(client.ws.OPEN);
  });
});

describe('handshakes in flight', () => {
  it('answers 503 past HERALD_MAX_HANDSHAKES (with no queue) while tokens are being verified, and takes upgrades again after', async () => {
    const jwks = await heldJwks();
    const gateway = await startGateway('sqlite', {
      env: { HERALD_JWKS_URL: jwks.url, HERALD_MAX_HANDSHAKES: '1', HERALD_MAX_HANDSHAKE_QUEUE: '0' },
    });
    const clients: TestClient[] = [];
    try {
      const refusedBefore = await metricValue(gateway.baseUrl, 'herald_refused_connections_total', { reason: 'handshakes' });
      const heldUser = uniqueUser('held');
      const held = TestClient.open(gateway.wsUrl, await jwks.sign(heldUser));
      await jwks.keysAsked;
      // The one handshake allowed is waiting for the keys: the next upgrade is refused before any work.
      await expect(TestClient.open(gateway.wsUrl, await gateway.token(uniqueUser('second')))).rejects.toThrow('HTTP 503');
      expect(await metricValue(gateway.baseUrl, 'herald_refused_connections_total', { reason: 'handshakes' })).toBe(refusedBefore + 1);

      jwks.release();
      const first = await held;
      clients.push(first);
      const [connected] = await first.waitForType('connected');
      expect(connected?.payload.user_id).toBe(heldUser);
      const third = await TestClient.open(gateway.wsUrl, await gateway.token(uniqueUser('third')));
      clients.push(third);
      await third.waitForType('connected');
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await gateway.close();
      await jwks.close();
    }
  });
});

describe('the handshake queue', () => {
  it('lets upgrades past HERALD_MAX_HANDSHAKES wait their turn, and refuses with 503 only past HERALD_MAX_HANDSHAKE_QUEUE', async () => {
    const jwks = await heldJwks();
    const gateway = await startGateway('sqlite', {
      env: { HERALD_JWKS_URL: jwks.url, HERALD_MAX_HANDSHAKES: '1', HERALD_MAX_HANDSHAKE_QUEUE: '2' },
    });
    const clients: TestClient[] = [];
    try {
      const heldUser = uniqueUser('held');
      const held = TestClient.open(gateway.wsUrl, await jwks.sign(heldUser));
      await jwks.keysAsked;
      // The slot is taken by the held handshake: two upgrades queue, the third finds the queue full.
      const queuedUsers = [uniqueUser('queued'), uniqueUser('queued')];
      const queued = queuedUsers.map(async (user) => TestClient.open(gateway.wsUrl, await gateway.token(user)));
      await waitUntil(async () => (await metricValue(gateway.baseUrl, 'herald_handshakes_queued')) === 2, 'two upgrades queued');
      await expect(TestClient.open(gateway.wsUrl, await gateway.token(uniqueUser('third')))).rejects.toThrow('HTTP 503');
      expect(gateway.herald.connectedUsers().filter((user) => queuedUsers.includes(user))).toEqual([]);

      jwks.release();
      for (const pending of [held, ...queued]) {
        const client = await pending;
        clients.push(client);
        await client.waitForType('connected');
      }
      expect(gateway.herald.connectedUsers()).toEqual(expect.arrayContaining([heldUser, ...queuedUsers]));
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await gateway.close();
      await jwks.close();
    }
  });
});

describe('graceful shutdown', () => {
  let gateway: TestGateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });

  it('delivers what was published before close(), then closes every client with 1012', async () => {
    gateway = await startGateway('sqlite');
    const alice = uniqueUser('alice');
    const bob = uniqueUser('bob');
    const aliceTabs = [await TestClient.open(gateway.wsUrl, await gateway.token(alice)), await TestClient.open(gateway.wsUrl, await gateway.token(alice))];
    const bobTab = await TestClient.open(gateway.wsUrl, await gateway.token(bob));
    const all = [...aliceTabs, bobTab];
    await Promise.all(all.map((tab) => tab.waitForType('connected')));

    const response = await gateway.publish(range(1, 50).map((n) => ({ user_id: alice, type: 'new_notification', payload: { n } })));
    expect(response.status).toBe(200);
    // No waiting for the clients to read: close() must flush what was queued before its close frames.
    await gateway.herald.close();

    for (const tab of all) {
      const closed = await tab.closed;
      expect(closed).toEqual({ code: 1012, reason: 'Server restarting, reconnect' });
    }
    for (const tab of aliceTabs) expect(seqs(tab.events)).toEqual(range(1, 50));
    expect(bobTab.events).toEqual([]);
    expect(gateway.herald.connectedUsers()).toEqual([]);
    expect(gateway.herald.isConnected(alice)).toBe(false);
  });

  it('refuses new connections once close() has begun', async () => {
    gateway = await startGateway('sqlite');
    const user = uniqueUser('late');
    const token = await gateway.token(user);
    const open = await TestClient.open(gateway.wsUrl, token);
    await open.waitForType('connected');
    // The open client reads nothing until told, so close() is certainly still draining at the first attempt.
    const socket = (open.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    const closing = gateway.herald.close();
    // While the open client is being told to go (draining), and after the server has stopped.
    await expect(TestClient.open(gateway.wsUrl, token)).rejects.toThrow(/^HTTP 503$/);
    socket.resume();
    await closing;
    await expect(TestClient.open(gateway.wsUrl, token)).rejects.toThrow(/ECONNREFUSED/);
    expect((await open.closed).code).toBe(1012);
    expect(gateway.herald.isConnected(user)).toBe(false);
  });

  it('does not admit a connection whose handshake was still in flight when close() began', async () => {
    // The JWKS endpoint holds one handshake in token verification, so that it finishes while the gateway drains.
    const jwks = await heldJwks();
    try {
      gateway = await startGateway('sqlite', { env: { HERALD_JWKS_URL: jwks.url } });
      // A client that does not read keeps the drain waiting (it cannot answer the 1012 close frame).
      const stuckUser = uniqueUser('stuck');
      const stuck = await TestClient.open(gateway.wsUrl, await gateway.token(stuckUser));
      await stuck.waitForType('connected');
      const stuckSocket = (stuck.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      stuckSocket.pause();

      const lateUser = uniqueUser('in-flight');
      const late = TestClient.open(gateway.wsUrl, await jwks.sign(lateUser)).then(
        (client) => client,
        (error: Error) => error,
      );
      await jwks.keysAsked;
      const closing = gateway.herald.close();
      jwks.release();

      const outcome = await late;
      if (outcome instanceof Error) {
        // Refused at the HTTP level: fine too.
        expect(outcome.message).toBe('HTTP 503');
      } else {
        const closed = await outcome.closed;
        expect(closed.code).toBe(1012);
        expect(outcome.frames).toEqual([]);
      }
      expect(gateway.herald.isConnected(lateUser)).toBe(false);
      stuckSocket.resume();
      expect((await stuck.closed).code).toBe(1012);
      await closing;
    } finally {
      await jwks.close();
    }
  });
});
