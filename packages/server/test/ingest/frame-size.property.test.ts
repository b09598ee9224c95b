import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventRows } from '../../src/store/event-rows.js';
import type { AppendInput } from '../../src/store/store.js';
import { encodeBroadcast, encodeEvent } from '../../src/transport/encode.js';
import { broadcastFrameBytes, eventFrameBytes, FRAME_OVERHEAD_BYTES } from '../../src/transport/frame-size.js';
import { broadcastFrameSize, eventFrameSize, sentSize, type StreamType } from './frame-sized.js';

/** Strings that grow on the wire: escapes (`"`, `\`, controls, lone surrogates) and 2-, 3- and 4-byte characters. */
const wideText = fc.string({
  unit: fc.oneof(
    fc.constantFrom('"', '\\', '\n', '\t', '\u0000', '\u001f', '\u2028', '\ud800', '\udfff', 'é', '€', '😀', '\u{10ffff}', 'x'),
    fc.string({ unit: 'grapheme', maxLength: 1 }),
    fc.string({ unit: 'binary', maxLength: 1 }),
  ),
  maxLength: 40,
});
const jsonLeaf = fc.oneof(wideText, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(1e21));
const payload = fc.dictionary(
  wideText,
  fc.oneof(jsonLeaf, fc.array(jsonLeaf, { maxLength: 4 }), fc.dictionary(wideText, jsonLeaf, { maxKeys: 3 })),
  { maxKeys: 5 },
);
const streamType = fc.constantFrom<StreamType>('new_notification', 'task_update');
const key = fc.option(wideText.filter((text) => text.length > 0), { nil: null });
const seq = fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constant(Number.MAX_SAFE_INTEGER), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }));

/** The frame the store and the encoder really make for `input` at `seq`. */
function realFrame(input: AppendInput, at: number): Buffer {
  return encodeEvent(eventRows(input, at, new Date().toISOString()).event);
}

describe('property: the size of a frame before it is made', () => {
  it('is, for a stream event, the real frame with the longest seq: never below what is sent, and exact but for the seq', () => {
    fc.assert(
      fc.property(streamType, payload, key, seq, (type, value, idempotencyKey, at) => {
        const input: AppendInput = { userId: 'u', type, payload: value, key: idempotencyKey };
        const counted = eventFrameBytes(input);
        expect(counted).toBe(eventFrameSize(type, JSON.stringify(value), idempotencyKey));
        expect(counted).toBe(realFrame(input, Number.MAX_SAFE_INTEGER).length);
        const sent = realFrame(input, at).length;
        expect(sent).toBe(sentSize(counted, at));
        expect(sent).toBeLessThanOrEqual(counted);
      }),
      { numRuns: 3000 },
    );
  });

  it('is, for a broadcast, exactly the frame sent', () => {
    fc.assert(
      fc.property(streamType, payload, (type, value) => {
        const counted = broadcastFrameBytes(type, value);
        expect(counted).toBe(encodeBroadcast({ type, payload: value }).length);
        expect(counted).toBe(broadcastFrameSize(type, JSON.stringify(value)));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('FRAME_OVERHEAD_BYTES', () => {
  it('covers the largest wrapper a frame puts around an item, with the longest key Kafka gives a record without id', () => {
    // Herald's keys for such records: kafka:<topic, at most 249 characters>/<partition, int32>/<offset, int64>.
    const longestKafkaKey = `kafka:${'t'.repeat(249)}/2147483647/9223372036854775807`;
    for (const type of ['new_notification', 'task_update'] as const) {
      // 487 bytes for a new_notification: the budget leaves room for a field the notification may gain.
      const wrapper = eventFrameBytes({ userId: 'u', type, payload: {}, key: longestKafkaKey }) - 2;
      expect(wrapper).toBeLessThanOrEqual(FRAME_OVERHEAD_BYTES);
      expect(broadcastFrameBytes(type, {}) - 2).toBeLessThanOrEqual(FRAME_OVERHEAD_BYTES);
    }
  });
});
