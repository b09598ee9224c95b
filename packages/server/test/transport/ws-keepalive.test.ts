import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KeepaliveWheel, type KeepaliveEntry } from '../../src/transport/keepalive-wheel.js';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { metricValue } from '../helpers/metric-value.js';
import { TestClient } from '../helpers/ws-client.js';

interface Entry extends KeepaliveEntry {
  name: string;
  /** When true the entry "answers" each ping at once, as a live client would. */
  answers: boolean;
  pings: number[];
  expiredAt: number[];
}

const PING = 1000;
const IDLE = 3000;
const START = 1_000_000;

/** A wheel on a fake clock, driven by hand. */
function fakeWheel() {
  let time = START;
  const wheel = new KeepaliveWheel<Entry>({
    pingIntervalMs: PING,
    idleTimeoutMs: IDLE,
    now: () => time,
    ping: (entry) => {
      entry.pings.push(time);
      if (entry.answers) entry.lastSeenAt = time;
    },
    expire: (entry) => entry.expiredAt.push(time),
  });
  const entry = (name: string, answers: boolean): Entry => ({
    name,
    answers,
    pings: [],
    expiredAt: [],
    lastSeenAt: 0,
    nextPingAt: 0,
    deadlineAt: Number.POSITIVE_INFINITY,
    slot: -1,
  });
  return {
    wheel,
    entry,
    now: () => time,
    /** Moves the clock forward in small steps, ticking after each, as the real interval would. */
    advance(ms: number, step = 10, onStep?: () => void) {
      const end = time + ms;
      while (time < end) {
        time = Math.min(end, time + step);
        onStep?.();
        wheel.tick();
      }
    },
    /** Moves the clock without ticking: the timer ran late. */
    jump(ms: number) {
      time += ms;
    },
  };
}

describe('KeepaliveWheel (fake clock)', () => {
  it('pings each entry once per interval, the first ping jittered between half and one interval', () => {
    const { wheel, entry, advance } = fakeWheel();
    const entries = Array.from({ length: 40 }, (_, index) => entry(`e${index}`, true));
    for (const item of entries) wheel.add(item);
    expect(wheel.size).toBe(40);
    advance(10 * PING);
    const slack = 2 * (PING / 20);
    for (const item of entries) {
      const first = item.pings[0]! - START;
      expect(first).toBeGreaterThanOrEqual(PING / 2);
      expect(first).toBeLessThanOrEqual(PING + slack);
      const gaps = item.pings.slice(1).map((at, index) => at - item.pings[index]!);
      for (const gap of gaps) {
        expect(gap).toBeGreaterThanOrEqual(PING);
        expect(gap).toBeLessThanOrEqual(PING + slack);
      }
      // 10 intervals: the first ping within the first one, then one per interval.
      expect(item.pings.length).toBeGreaterThanOrEqual(9);
      expect(item.pings.length).toBeLessThanOrEqual(10);
      expect(item.expiredAt).toEqual([]);
    }
    // Jitter: the first pings do not all fall at the same moment.
    expect(new Set(entries.map((item) => item.pings[0])).size).toBeGreaterThan(1);
    expect(wheel.size).toBe(40);
  });

  it('expires an entry silent past the idle timeout, once, and keeps one that answered its pings', () => {
    const { wheel, entry, advance } = fakeWheel();
    const silent = entry('silent', false);
    const answering = entry('answering', true);
    wheel.add(silent);
    wheel.add(answering);
    advance(IDLE + 5 * PING);
    expect(silent.expiredAt).toHaveLength(1);
    expect(silent.expiredAt[0]! - START).toBeGreaterThanOrEqual(IDLE);
    expect(silent.expiredAt[0]! - START).toBeLessThanOrEqual(IDLE + 2 * (PING / 20));
    // Pinged while it was still within the timeout, never after it expired: 2 or 3 times, as the jitter of the
    // first ping (Math.random over half an interval) puts it early or late in the first interval.
    expect([2, 3]).toContain(silent.pings.length);
    expect(silent.pings.every((at) => at < silent.expiredAt[0]!)).toBe(true);
    expect(answering.expiredAt).toEqual([]);
    // One ping per interval over IDLE + 5 intervals, the jittered first one included or not: 7 or 8.
    expect([IDLE / PING + 4, IDLE / PING + 5]).toContain(answering.pings.length);
    expect(wheel.size).toBe(1);
  });

  it('keeps an entry that keeps talking without answering pings (any message counts as life)', () => {
    const { wheel, entry, advance, now } = fakeWheel();
    const chatty = entry('chatty', false);
    const silent = entry('silent', false);
    wheel.add(chatty);
    wheel.add(silent);
    let lastMessage = START;
    advance(4 * IDLE, 10, () => {
      // A message every half idle timeout, as a client sending its own frames would.
      if (now() - lastMessage >= IDLE / 2) {
        lastMessage = now();
        chatty.lastSeenAt = now();
      }
    });
    expect(chatty.expiredAt).toEqual([]);
    expect(silent.expiredAt).toHaveLength(1);
    expect(wheel.size).toBe(1);
  });

  it('stops visiting an entry once removed', () => {
    const { wheel, entry, advance } = fakeWheel();
    const kept = entry('kept', true);
    const removed = entry('removed', false);
    wheel.add(kept);
    wheel.add(removed);
    wheel.remove(removed);
    expect(removed.slot).toBe(-1);
    expect(wheel.size).toBe(1);
    advance(3 * IDLE);
    expect(removed.pings).toEqual([]);
    expect(removed.expiredAt).toEqual([]);
    // Nine intervals, the jittered first ping within the first: 8 or 9.
    expect([8, 9]).toContain(kept.pings.length);
    // Removing after some visits works too, and removing twice is harmless.
    wheel.remove(kept);
    wheel.remove(kept);
    const pingsBefore = kept.pings.length;
    advance(3 * IDLE);
    expect(kept.pings.length).toBe(pingsBefore);
    expect(kept.expiredAt).toEqual([]);
    expect(wheel.size).toBe(0);
  });

  it('a late tick catches up: one call visits every slot that came due meanwhile', () => {
    const { wheel, entry, jump, advance } = fakeWheel();
    const silent = entry('silent', false);
    const answering = entry('answering', true);
    wheel.add(silent);
    wheel.add(answering);
    // The timer did not run for longer than the idle timeout.
    jump(IDLE + PING);
    answering.lastSeenAt = START + IDLE; // it did talk meanwhile
    wheel.tick();
    expect(silent.expiredAt).toHaveLength(1);
    // One visit, one ping: a late timer does not ping once per missed interval.
    expect(answering.pings).toHaveLength(1);
    expect(answering.expiredAt).toEqual([]);
    expect(wheel.size).toBe(1);
    // And the wheel carries on normally afterwards, with no jitter now: two more pings in the next three intervals
    // (each lands one tick after its time, so the third falls just past the end).
    advance(3 * PING);
    expect(answering.pings).toHaveLength(3);
    expect(answering.expiredAt).toEqual([]);
  });

  it('a late tick further than the whole wheel still visits every entry once', () => {
    const { wheel, entry, jump } = fakeWheel();
    const silent = Array.from({ length: 25 }, (_, index) => entry(`s${index}`, false));
    for (const item of silent) wheel.add(item);
    jump(10 * IDLE);
    wheel.tick();
    expect(silent.map((item) => item.expiredAt.length)).toEqual(silent.map(() => 1));
    expect(wheel.size).toBe(0);
  });
});

describe('keepalive on a real gateway', () => {
  const PING_MS = 50;
  const IDLE_MS = 600;
  let gateway: TestGateway;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    gateway = await startGateway('sqlite', { env: { HERALD_PING_INTERVAL_MS: String(PING_MS), HERALD_IDLE_TIMEOUT_MS: String(IDLE_MS) } });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(() => gateway.close());

  async function connect(user: string, options: { autoPong?: boolean } = {}): Promise<TestClient> {
    const query = new URLSearchParams({ token: await gateway.token(user) });
    const client = await TestClient.connect(`${gateway.wsUrl}?${query}`, options);
    clients.push(client);
    return client;
  }

  it('tells the client the ping interval and sends JSON pings', async () => {
    const user = uniqueUser('pings');
    const client = await connect(user);
    const [connected] = await client.waitForType('connected');
    expect(connected?.payload.ping_interval_ms).toBe(PING_MS);
    const pings = await client.waitForType('ping', 3);
    expect(pings.slice(0, 3)).toEqual([
      { type: 'ping', payload: {} },
      { type: 'ping', payload: {} },
      { type: 'ping', payload: {} },
    ]);
  });

  it('keeps clients that answer pings (JSON pong, or a WebSocket pong control frame) open for several idle periods', async () => {
    const user = uniqueUser('alive');
    const jsonPong = await connect(user);
    const controlPong = await connect(user, { autoPong: false });
    controlPong.ws.on('message', (data) => {
      if (JSON.parse(data.toString()).type === 'ping') controlPong.ws.pong();
    });
    const tabs = [jsonPong, controlPong];
    await Promise.all(tabs.map((tab) => tab.waitForType('connected')));
    // Pings every 50 ms: 40 of them span more than three idle timeouts.
    await Promise.all(tabs.map((tab) => tab.waitForType('ping', 40, 20_000)));
    for (const tab of tabs) expect(tab.ws.readyState).toBe(tab.ws.OPEN);
    expect(gateway.herald.isConnected(user)).toBe(true);
    await gateway.publish({ user_id: user, type: 'new_notification', payload: { title: 'still here' } });
    for (const tab of tabs) expect(await tab.waitForSeq(1)).toHaveLength(1);
  });

  it('terminates a silent client without a close frame and removes it', async () => {
    const user = uniqueUser('silent');
    const idleBefore = await metricValue(gateway.baseUrl, 'herald_drops_total', { reason: 'idle' });
    const client = await connect(user, { autoPong: false });
    await client.waitForType('connected');
    expect(gateway.herald.isConnected(user)).toBe(true);
    const closed = await client.closed;
    expect(closed.code).toBe(1006);
    // It was pinged before it was given up on.
    expect(client.frames.some((frame) => frame.type === 'ping')).toBe(true);
    await expect.poll(() => gateway.herald.isConnected(user)).toBe(false);
    expect(gateway.herald.connectedUsers()).not.toContain(user);
    expect(await metricValue(gateway.baseUrl, 'herald_drops_total', { reason: 'idle' })).toBe(idleBefore + 1);
  });

  it('terminates only the silent tab of a user whose other tab answers', async () => {
    const user = uniqueUser('two-tabs');
    const live = await connect(user);
    const silent = await connect(user, { autoPong: false });
    await Promise.all([live.waitForType('connected'), silent.waitForType('connected')]);
    expect((await silent.closed).code).toBe(1006);
    expect(live.ws.readyState).toBe(live.ws.OPEN);
    expect(gateway.herald.isConnected(user)).toBe(true);
    await gateway.publish({ user_id: user, type: 'task_update', payload: { action: 'done', task: { id: 1 } } });
    expect(await live.waitForSeq(1)).toHaveLength(1);
  });
});
