import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../helpers/databases.js';
import { startGateway, TEST_API_KEY, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { httpRequest } from '../helpers/http-request.js';
import { metricValue } from '../helpers/metric-value.js';
import { broadcastFrameSize, eventFrameSize, sentSize, sizedPayload, type SizedPayload, type StreamType } from '../ingest/frame-sized.js';
import { SizedTab } from '../ingest/sized-tab.js';

/**
 * What POST /publish and POST /broadcast accept fits in one frame under the slow-consumer bound, so a tab can
 * always be sent it: an event or broadcast over the bound used to close every tab it went to with 4008.
 *
 * With a bound of 4096 the body limit can be at most 3072 (start-up checks it), and a body written as
 * JSON.stringify writes it then always makes a frame under the bound. A body reaches the bound through what
 * JSON.parse and JSON.stringify write differently: numbers written `1e20` (5 bytes in the body, 21 digits in the
 * frame). The padding adds the characters whose bytes are not their length: `"` and `\n` (escaped), an emoji.
 */
const BOUND = 4096;
const BODY = 3072;
const TYPES: StreamType[] = ['new_notification', 'task_update'];
const PADS = ['x', '"', '\n', '😀'];
const OFFSETS = [-1, 0, 1];
const BIG_NUMBERS = 170;
const CASES = TYPES.flatMap((type) => PADS.flatMap((pad) => OFFSETS.map((offset) => [type, pad, offset] as const)));

const tooLarge = (place: string, bytes: number, upTo = 'up to ') =>
  `${place} is too large to deliver: its frame would be ${upTo}${bytes} bytes, over HERALD_MAX_BUFFERED_BYTES (${BOUND}), the most a tab may be sent at once`;

/** A publish item as the producer's text, its payload written with `1e20`s. */
function itemText(user: string, type: StreamType, payload: SizedPayload): string {
  return `{"user_id":${JSON.stringify(user)},"type":"${type}","payload":${payload.text}}`;
}

describe.each(databaseKinds)('what publish and broadcast accept fits in one frame under HERALD_MAX_BUFFERED_BYTES (%s)', (kind) => {
  let gateway: TestGateway;
  const tabs: SizedTab[] = [];
  beforeAll(async () => {
    gateway = await startGateway(kind, { env: { HERALD_MAX_BUFFERED_BYTES: String(BOUND), HERALD_MAX_BODY_BYTES: String(BODY) } });
  });
  afterEach(async () => {
    await Promise.all(tabs.splice(0).map((tab) => tab.close()));
  });
  afterAll(async () => {
    // No tab was ever closed as a slow consumer: everything accepted was delivered.
    expect(await metricValue(gateway.baseUrl, 'herald_drops_total', { reason: 'slow_consumer' })).toBe(0);
    await gateway.close();
  });

  async function open(user: string, since?: number): Promise<SizedTab> {
    const tab = await SizedTab.open(gateway.wsUrl, await gateway.token(user), since);
    tabs.push(tab);
    return tab;
  }

  const post = (path: string, rawBody: string) => {
    expect(Buffer.byteLength(rawBody), 'the body is under HERALD_MAX_BODY_BYTES: the frame decides').toBeLessThanOrEqual(BODY);
    return httpRequest(gateway.baseUrl, path, { bearer: TEST_API_KEY, rawBody });
  };

  /** A small event after the large one: a tab that stayed open and in order receives it next. */
  async function later(user: string, seq: number, userTabs: SizedTab[]): Promise<void> {
    const response = await gateway.publish({ user_id: user, type: 'task_update', payload: { later: true } });
    expect(response.status).toBe(200);
    expect(response.body.events[0].seq).toBe(seq);
    for (const tab of userTabs) {
      expect((await tab.event(seq)).frame.payload).toEqual({ later: true });
      expect(tab.events.map((entry) => entry.frame.seq)).toEqual(Array.from({ length: seq }, (_, index) => index + 1));
      tab.expectOpen();
    }
  }

  it.each(CASES)('a %s whose frame is %j-padded to the bound %+d: delivered to every tab when it fits, 413 when not', async (type, pad, offset) => {
    const user = uniqueUser('frame');
    const userTabs = [await open(user), await open(user)];
    const target = BOUND + offset;
    const payload = sizedPayload((json) => eventFrameSize(type, json), target, { pad, bigNumbers: BIG_NUMBERS });
    const response = await post('/publish', itemText(user, type, payload));
    if (offset > 0) {
      expect(response.status).toBe(413);
      expect(response.body).toEqual({ error: 'payload_too_large', message: tooLarge('body', target) });
      await later(user, 1, userTabs);
      return;
    }
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ accepted: 1, stored: 1, events: [{ seq: 1, type }] });
    for (const tab of userTabs) {
      const { frame, bytes } = await tab.event(1);
      expect(bytes).toBe(sentSize(target, 1));
      expect(type === 'new_notification' ? frame.payload.payload : frame.payload).toEqual(payload.value);
    }
    await later(user, 2, userTabs);
  });

  it.each(TYPES)('refuses a %s far over the bound (a 6 KB frame from a 1.6 KB body), and no tab is closed', async (type) => {
    const user = uniqueUser('far');
    const userTabs = [await open(user), await open(user)];
    const payload = sizedPayload((json) => eventFrameSize(type, json), 6000, { bigNumbers: 250 });
    const response = await post('/publish', itemText(user, type, payload));
    expect(response.status).toBe(413);
    expect(response.body.message).toBe(tooLarge('body', 6000));
    await later(user, 1, userTabs);
    const broadcast = await post('/broadcast', `{"type":"${type}","payload":${payload.text}}`);
    expect(broadcast.status).toBe(413);
    await later(user, 2, userTabs);
  });

  it.each(TYPES)('replays a stored %s at the bound to a tab that connects later, which stays open', async (type) => {
    const user = uniqueUser('replay');
    const payload = sizedPayload((json) => eventFrameSize(type, json), BOUND, { pad: '😀', bigNumbers: BIG_NUMBERS });
    for (let round = 0; round < 3; round++) expect((await post('/publish', itemText(user, type, payload))).status).toBe(200);
    const tab = await open(user, 0);
    for (const seq of [1, 2, 3]) expect((await tab.event(seq)).bytes).toBe(sentSize(BOUND, seq));
    await later(user, 4, [tab]);
  });

  it('refuses a batch with one item over the bound whole, naming the item, and stores and delivers it without that item', async () => {
    const user = uniqueUser('batch');
    const tab = await open(user);
    const at = sizedPayload((json) => eventFrameSize('new_notification', json), BOUND, { pad: '"', bigNumbers: BIG_NUMBERS });
    const over = sizedPayload((json) => eventFrameSize('task_update', json), BOUND + 1, { pad: '\n', bigNumbers: BIG_NUMBERS });
    const small = sizedPayload((json) => eventFrameSize('task_update', json), 200);
    const items = [itemText(user, 'new_notification', at), itemText(user, 'task_update', small), itemText(user, 'task_update', over)];
    const refused = await post('/publish', `[${items.join(',')}]`);
    expect(refused.status).toBe(413);
    expect(refused.body).toEqual({ error: 'payload_too_large', message: tooLarge('body[2]', BOUND + 1) });
    expect((await gateway.asUser(user, '/notifications')).body.items).toEqual([]);

    const stored = await post('/publish', `[${items.slice(0, 2).join(',')}]`);
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({ accepted: 2, stored: 2 });
    expect((await tab.event(1)).bytes).toBe(sentSize(BOUND, 1));
    expect((await tab.event(2)).bytes).toBe(sentSize(200, 2));
    await later(user, 3, [tab]);
  });

  it.each(CASES)('a broadcast of %s %j-padded to the bound %+d: sent to every tab when it fits, 413 when not', async (type, pad, offset) => {
    const users = [uniqueUser('everyone'), uniqueUser('everyone')];
    const everyone = [await open(users[0]!), await open(users[0]!), await open(users[1]!)];
    const target = BOUND + offset;
    const payload = sizedPayload((json) => broadcastFrameSize(type, json), target, { pad, bigNumbers: BIG_NUMBERS });
    const response = await post('/broadcast', `{"type":"${type}","payload":${payload.text}}`);
    if (offset > 0) {
      expect(response.status).toBe(413);
      expect(response.body).toEqual({ error: 'payload_too_large', message: tooLarge('body', target, '') });
    } else {
      expect(response.status).toBe(200);
      expect(response.body.connections).toBeGreaterThanOrEqual(3);
      for (const tab of everyone) {
        const [received] = await tab.broadcast(1);
        expect(received!.bytes).toBe(target);
        expect(received!.frame).toEqual({ type, broadcast: true, payload: payload.value });
      }
    }
    await later(users[0]!, 1, everyone.slice(0, 2));
    await later(users[1]!, 1, everyone.slice(2));
    for (const tab of everyone) expect(tab.broadcasts).toHaveLength(offset > 0 ? 0 : 1);
  });

  it('documents the 413 of both routes in /openapi.json', async () => {
    const document = (await httpRequest(gateway.baseUrl, '/openapi.json')).body;
    expect(Object.keys(document.paths['/publish'].post.responses)).toContain('413');
    expect(Object.keys(document.paths['/broadcast'].post.responses)).toContain('413');
  });
});

/**
 * The defaults: HERALD_MAX_BODY_BYTES is 1 MiB and HERALD_MAX_BUFFERED_BYTES 1 MiB + 64 KiB. A body of the whole
 * 1 MiB made a frame a little over the old 1 MiB bound, and every tab of the user was closed with 4008 on every
 * reconnect (a broadcast of it closed everyone).
 */
describe('with the default limits', () => {
  const MIB = 1024 * 1024;
  let gateway: TestGateway;
  const tabs: SizedTab[] = [];
  beforeAll(async () => {
    gateway = await startGateway('sqlite');
  });
  afterAll(async () => {
    await Promise.all(tabs.map((tab) => tab.close()));
    expect(await metricValue(gateway.baseUrl, 'herald_drops_total', { reason: 'slow_consumer' })).toBe(0);
    await gateway.close();
  });

  async function open(user: string, since?: number): Promise<SizedTab> {
    const tab = await SizedTab.open(gateway.wsUrl, await gateway.token(user), since);
    tabs.push(tab);
    return tab;
  }

  /** A body of exactly `bytes`, padded in its payload with `pad`. */
  function bodyOf(bytes: number, pad: string, fields: (payload: string) => string): string {
    const empty = fields('{"pad":""}');
    const width = Buffer.byteLength(JSON.stringify(pad)) - 2;
    const room = bytes - Buffer.byteLength(empty);
    const padding = pad.repeat(Math.floor(room / width)) + 'x'.repeat(room % width);
    const body = fields(`{"pad":${JSON.stringify(padding)}}`);
    expect(Buffer.byteLength(body)).toBe(bytes);
    return body;
  }

  it.each(['x', '"', '😀'])('delivers a new_notification whose body is the whole 1 MiB (%j) to every tab, which stay open', async (pad) => {
    const user = uniqueUser('mib');
    const userTabs = [await open(user), await open(user)];
    const body = bodyOf(MIB, pad, (payload) => `{"user_id":"${user}","type":"new_notification","payload":${payload},"id":"whole"}`);
    const response = await httpRequest(gateway.baseUrl, '/publish', { bearer: TEST_API_KEY, rawBody: body });
    expect(response.status).toBe(200);
    for (const tab of userTabs) {
      const { bytes } = await tab.event(1);
      // The frame is larger than the body (the notification's fields) and larger than the old 1 MiB bound.
      expect(bytes).toBeGreaterThan(MIB);
      expect(bytes).toBeLessThanOrEqual(gateway.config.maxBufferedBytes);
    }
    const again = await open(user, 0);
    expect((await again.event(1)).bytes).toBeGreaterThan(MIB);
    expect((await gateway.publish({ user_id: user, type: 'task_update', payload: {} })).status).toBe(200);
    for (const tab of [...userTabs, again]) {
      await tab.event(2);
      tab.expectOpen();
    }
  });

  it('sends a broadcast whose body is the whole 1 MiB to everyone, and refuses a body over it with 413', async () => {
    const everyone = [await open(uniqueUser('all')), await open(uniqueUser('all'))];
    const body = bodyOf(MIB, '\n', (payload) => `{"type":"task_update","payload":${payload}}`);
    expect((await httpRequest(gateway.baseUrl, '/broadcast', { bearer: TEST_API_KEY, rawBody: body })).status).toBe(200);
    for (const tab of everyone) {
      const [received] = await tab.broadcast(1);
      expect(received!.bytes).toBeGreaterThan(MIB);
      tab.expectOpen();
    }
    const over = bodyOf(MIB + 1, 'x', (payload) => `{"type":"task_update","payload":${payload}}`);
    const refused = await httpRequest(gateway.baseUrl, '/broadcast', { bearer: TEST_API_KEY, rawBody: over });
    expect(refused.status).toBe(413);
    expect(refused.body.message).toContain('HERALD_MAX_BODY_BYTES');
  });
});
