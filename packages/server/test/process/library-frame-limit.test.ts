import { ErrorCode } from '@herald/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HeraldError } from '../../src/errors.js';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { metricValue } from '../helpers/metric-value.js';
import { broadcastFrameSize, eventFrameSize, sentSize, sizedPayload, type StreamType } from '../ingest/frame-sized.js';
import { SizedTab } from '../ingest/sized-tab.js';

/**
 * The library has no body limit: a caller hands Herald objects, so the frame bound is the only size it meets.
 * Its strings are counted as they go out: a `"` or `\n` is one character and two bytes on the wire, an emoji two
 * UTF-16 units and four bytes, so a payload measured by its string length passed the bound unseen.
 */
const BOUND = 4096;
const TYPES: StreamType[] = ['new_notification', 'task_update'];
const PADS = ['x', '"', '\\', '\n', '\u0007', 'é', '€', '😀'];
const CASES = TYPES.flatMap((type) => PADS.flatMap((pad) => [-1, 0, 1].map((offset) => [type, pad, offset] as const)));

const tooLarge = (place: string, bytes: number, upTo = 'up to ') =>
  `${place} is too large to deliver: its frame would be ${upTo}${bytes} bytes, over HERALD_MAX_BUFFERED_BYTES (${BOUND}), the most a tab may be sent at once`;

/** The HeraldError `attempt` throws (or rejects with); fails the test when it does neither. */
async function thrown(attempt: () => unknown): Promise<HeraldError> {
  try {
    await attempt();
  } catch (error) {
    expect(error).toBeInstanceOf(HeraldError);
    return error as HeraldError;
  }
  throw new Error('expected a refusal');
}

describe('Herald.publish, sendToUser and broadcast take only what fits in one frame', () => {
  let gateway: TestGateway;
  const tabs: SizedTab[] = [];
  beforeAll(async () => {
    gateway = await startGateway('sqlite', { env: { HERALD_MAX_BUFFERED_BYTES: String(BOUND), HERALD_MAX_BODY_BYTES: '3072' } });
  });
  afterEach(async () => {
    await Promise.all(tabs.splice(0).map((tab) => tab.close()));
  });
  afterAll(async () => {
    expect(await metricValue(gateway.baseUrl, 'herald_drops_total', { reason: 'slow_consumer' })).toBe(0);
    await gateway.close();
  });

  async function open(user: string, since?: number): Promise<SizedTab> {
    const tab = await SizedTab.open(gateway.wsUrl, await gateway.token(user), since);
    tabs.push(tab);
    return tab;
  }

  /** A small event after the large one arrives next at every tab, which stayed open. */
  async function later(user: string, seq: number, userTabs: SizedTab[]): Promise<void> {
    const event = await gateway.herald.sendToUser(user, 'task_update', { later: true });
    expect(event?.seq).toBe(seq);
    for (const tab of userTabs) {
      await tab.event(seq);
      expect(tab.events.map((entry) => entry.frame.seq)).toEqual(Array.from({ length: seq }, (_, index) => index + 1));
      tab.expectOpen();
    }
  }

  it.each(CASES)('publish of a %s padded with %j to the bound %+d', async (type, pad, offset) => {
    const user = uniqueUser('lib');
    const userTabs = [await open(user), await open(user)];
    const target = BOUND + offset;
    const { value } = sizedPayload((json) => eventFrameSize(type, json), target, { pad });
    if (offset > 0) {
      const error = await thrown(() => gateway.herald.publish({ user_id: user, type, payload: value }));
      expect(error.code).toBe(ErrorCode.PayloadTooLarge);
      expect(error.status).toBe(413);
      expect(error.message).toBe(tooLarge('input', target));
      await later(user, 1, userTabs);
      return;
    }
    const [stored] = await gateway.herald.publish({ user_id: user, type, payload: value });
    expect(stored?.seq).toBe(1);
    for (const tab of userTabs) expect((await tab.event(1)).bytes).toBe(sentSize(target, 1));
    await later(user, 2, userTabs);
  });

  it('sendToUser counts the id, which the frame carries as the notification key', async () => {
    const user = uniqueUser('key');
    const tab = await open(user);
    const id = '😀"'.repeat(85);
    const { value } = sizedPayload((json) => eventFrameSize('new_notification', json, id), BOUND);
    // Fits with the id it was sized for; one more character of id is one frame too many.
    const error = await thrown(() => gateway.herald.sendToUser(user, 'new_notification', value, { id: `${id}x` }));
    expect(error.message).toBe(tooLarge('input', BOUND + 1));
    expect((await gateway.herald.sendToUser(user, 'new_notification', value, { id }))?.seq).toBe(1);
    const { frame, bytes } = await tab.event(1);
    expect(bytes).toBe(sentSize(BOUND, 1));
    expect(frame.payload.key).toBe(id);
    await later(user, 2, [tab]);
  });

  it('refuses a batch with one item over the bound, naming it, and stores nothing of it', async () => {
    const user = uniqueUser('lib-batch');
    const tab = await open(user);
    const at = { user_id: user, type: 'task_update' as const, payload: sizedPayload((json) => eventFrameSize('task_update', json), BOUND, { pad: '"' }).value };
    const over = { ...at, payload: sizedPayload((json) => eventFrameSize('task_update', json), BOUND + 1, { pad: '"' }).value };
    const error = await thrown(() => gateway.herald.publish([at, at, at, over]));
    expect(error.code).toBe(ErrorCode.PayloadTooLarge);
    expect(error.message).toBe(tooLarge('input[3]', BOUND + 1));
    // Far past the body limit too: the library has none, the frame bound is what holds.
    const huge = { ...at, payload: { text: 'x'.repeat(100_000) } };
    expect((await thrown(() => gateway.herald.publish([at, huge]))).message).toMatch(/^input\[1\] is too large to deliver/);
    expect(await gateway.herald.publish([at, at])).toHaveLength(2);
    for (const seq of [1, 2]) expect((await tab.event(seq)).bytes).toBe(sentSize(BOUND, seq));
    await later(user, 3, [tab]);
  });

  it.each(CASES)('broadcast of a %s padded with %j to the bound %+d', async (type, pad, offset) => {
    const user = uniqueUser('lib-all');
    const everyone = [await open(user), await open(user)];
    const target = BOUND + offset;
    const { value } = sizedPayload((json) => broadcastFrameSize(type, json), target, { pad });
    if (offset > 0) {
      const error = await thrown(() => gateway.herald.broadcast(type, value));
      expect(error.code).toBe(ErrorCode.PayloadTooLarge);
      expect(error.message).toBe(tooLarge('input', target, ''));
    } else {
      gateway.herald.broadcast(type, value);
      for (const tab of everyone) expect((await tab.broadcast(1))[0]!.bytes).toBe(target);
    }
    await later(user, 1, everyone);
    for (const tab of everyone) expect(tab.broadcasts).toHaveLength(offset > 0 ? 0 : 1);
  });
});
