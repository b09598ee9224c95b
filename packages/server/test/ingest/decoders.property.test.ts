import { CLIENT_FRAME_TYPES, ErrorCode, PUBLISHABLE_TYPES } from '@herald/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeKafkaRecord } from '../../src/ingest/kafka-record.js';
import { decodePublishItem } from '../../src/ingest/publish-item.js';
import { decodeClientFrame } from '../../src/transport/client-frame.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { identifierLike, isIdentifierByHand } from '../http/identifier-forms.js';

const errorCodes = new Set<string>(Object.values(ErrorCode));
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** What a publish item is, written independently of the schema the decoder compiles. */
function isPublishItem(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  const keys = Object.keys(value);
  if (!keys.every((key) => ['user_id', 'type', 'payload', 'id'].includes(key))) return false;
  const { user_id: userId, type, payload, id } = value;
  return (
    isIdentifierByHand(userId) &&
    (PUBLISHABLE_TYPES as readonly unknown[]).includes(type) &&
    isPlainObject(payload) &&
    (!('id' in value) || isIdentifierByHand(id))
  );
}

/**
 * Values near the edges of a publish item: right and wrong types, lengths at the bounds (in UTF-16 units and in
 * code points), control characters and lone surrogates in the identifiers, extra keys.
 */
const publishLike = fc.record(
  {
    user_id: fc.oneof(fc.string({ maxLength: 3 }), identifierLike, fc.integer(), fc.constant(null)),
    type: fc.oneof(fc.constantFrom(...PUBLISHABLE_TYPES, 'all_read', 'notification_read', ''), fc.string(), fc.integer()),
    payload: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue()),
    id: fc.oneof(fc.string({ maxLength: 3 }), identifierLike, fc.integer()),
    extra: fc.jsonValue(),
  },
  { requiredKeys: [] },
);

/** Items right in every field but the identifiers, so that their rule alone decides. */
const identifierItems = fc.record(
  {
    user_id: identifierLike,
    type: fc.constantFrom(...PUBLISHABLE_TYPES),
    payload: fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
    id: identifierLike,
  },
  { requiredKeys: ['user_id', 'type', 'payload'] },
);

describe('property: every decoder of outside input', () => {
  it('client frames: any text gets a frame or a known error code with a short message, never an exception', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.string({ unit: 'binary' })), (text) => {
        const decoded = decodeClientFrame(text);
        if (decoded.ok) {
          expect(CLIENT_FRAME_TYPES).toContain(decoded.value.type);
        } else {
          expect(errorCodes.has(decoded.error.code)).toBe(true);
          expect(decoded.error.message.length).toBeGreaterThan(0);
          expect(decoded.error.message.length).toBeLessThan(300);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('client frames: a resume is taken exactly when since is a non-negative safe integer', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -5, max: Number.MAX_SAFE_INTEGER }), fc.double(), fc.string(), fc.constant(null)), (since) => {
        const text = JSON.stringify({ type: 'resume', payload: { since } });
        // What went over the wire (JSON has no -0, NaN or Infinity), not the value before it was written.
        const sent = (JSON.parse(text) as { payload: { since: unknown } }).payload.since;
        const decoded = decodeClientFrame(text);
        expect(decoded.ok).toBe(typeof sent === 'number' && Number.isSafeInteger(sent) && sent >= 0);
        if (decoded.ok) expect(decoded.value).toEqual({ type: 'resume', payload: { since: sent } });
      }),
      { numRuns: 1000 },
    );
  });

  it('publish items: accepted exactly when an independent reading of the contract accepts them', () => {
    fc.assert(
      fc.property(fc.oneof(publishLike, identifierItems, fc.jsonValue()), (value) => {
        const decoded = decodePublishItem(value, 'body');
        expect(decoded.ok).toBe(isPublishItem(value));
        if (!decoded.ok) expect(decoded.error).toMatch(/^body/);
      }),
      { numRuns: 3000 },
    );
  });

  it('Kafka records: any bytes are stored or dead-lettered with a reason, and a stored one always has a key', () => {
    const coordinates = { topic: 't', partition: 3, offset: 7n, key: null };
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          publishLike.map((value) => new TextEncoder().encode(JSON.stringify(value))),
          fc.jsonValue().map((value) => new TextEncoder().encode(JSON.stringify(value) ?? '')),
        ),
        (bytes) => {
          const decoded = decodeKafkaRecord({ ...coordinates, value: Buffer.from(bytes) }, 1024 * 1024);
          if (decoded.ok) {
            expect(decoded.value.key).toBeTruthy();
            expect(decoded.value.userId.length).toBeGreaterThan(0);
          } else {
            expect(decoded.error.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('property: list cursors over real HTTP', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway('sqlite');
    await gateway.publish(Array.from({ length: 5 }, (_, n) => ({ user_id: 'cursor-owner', type: 'new_notification', payload: { n } })));
  });
  afterAll(() => gateway.close());

  it("any cursor string gets a page of the caller's own inbox or a 400, never a 500 and never another user's items", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.bigInt({ min: -10n, max: 10n ** 20n }).map(String), fc.constantFrom('0', '1', '6', '1e3', ' 2', '2 ', '0x10')),
        async (cursor) => {
          const response = await gateway.asUser('cursor-stranger', `/notifications?cursor=${encodeURIComponent(cursor)}`);
          expect([200, 400]).toContain(response.status);
          if (response.status === 200) expect(response.body.items).toEqual([]);
          else expect(response.body.error).toBe('bad_request');
        },
      ),
      { numRuns: 150 },
    );
  });
});
