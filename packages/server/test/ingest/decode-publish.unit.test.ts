import { ErrorCode } from '@herald/protocol';
import { describe, expect, it } from 'vitest';
import { HeraldError } from '../../src/errors.js';
import { acceptBroadcast, acceptPublish, decodeBroadcast, decodePublishBatch, MAX_PUBLISH_BATCH } from '../../src/ingest/decode-publish.js';
import { MAX_PAYLOAD_DEPTH } from '../../src/ingest/publish-item.js';
import { broadcastFrameSize, eventFrameSize, sizedPayload, type StreamType } from './frame-sized.js';

/** An object nested `depth` levels deep: depth 1 is `{}`. */
function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < depth; i++) value = { next: value };
  return value;
}

/** Arrays only, `depth` levels deep: depth 1 is `[]`. */
function nestedArrays(depth: number): unknown[] {
  let value: unknown[] = [];
  for (let i = 1; i < depth; i++) value = [value];
  return value;
}

const item = { user_id: 'alice', type: 'new_notification', payload: { title: 'hi' } };
const refusal = (error: string) => ({ ok: false, error });
const NOT_A_TYPE = 'must be equal to one of the allowed values (new_notification, task_update)';

describe('decodePublishBatch', () => {
  it('takes one item as a batch of one, and an array of 1 to 1000 items in its order', () => {
    expect(MAX_PUBLISH_BATCH).toBe(1000);
    expect(decodePublishBatch(item, 'body')).toEqual({ ok: true, value: [item] });
    expect(decodePublishBatch([item], 'body')).toEqual({ ok: true, value: [item] });
    const many = Array.from({ length: 1000 }, (_, n) => ({ ...item, payload: { n }, ...(n % 2 === 0 && { id: `k${n}` }) }));
    const decoded = decodePublishBatch(many, 'body');
    expect(decoded).toEqual({ ok: true, value: many });
    expect(decodePublishBatch({ ...item, type: 'task_update', id: 'x'.repeat(255) }, 'input').ok).toBe(true);
    // What the library's sendToUser passes when it is given no id.
    expect(decodePublishBatch({ ...item, id: undefined }, 'input')).toEqual({ ok: true, value: [{ ...item, id: undefined }] });
  });

  it.each([
    ['an empty array', [], 'body must hold at least one item'],
    ['1001 items', Array.from({ length: 1001 }, () => item), 'body must hold at most 1000 items'],
    ['1001 bad items (the count is refused first)', Array.from({ length: 1001 }, () => 'x'), 'body must hold at most 1000 items'],
    ['null', null, 'body must be object'],
    ['undefined (no body)', undefined, 'body must be object'],
    ['a number', 42, 'body must be object'],
    ['a string', 'hello', 'body must be object'],
    ['a boolean', true, 'body must be object'],
    ['a string item', [item, 'x'], 'body[1] must be object'],
    ['a null item', [null], 'body[0] must be object'],
    ['a number item', [item, item, 7], 'body[2] must be object'],
    ['an array item', [[item]], 'body[0] must be object'],
    ['an item in arrays nested 20,000 deep', [nestedArrays(20_000)], 'body[0] is nested deeper than 32 levels'],
    ['arrays nested 20,000 deep as the body', nestedArrays(20_000), 'body[0] is nested deeper than 32 levels'],
    ['a missing user_id', { type: 'new_notification', payload: {} }, 'body.user_id is required'],
    ['nothing but an extra field', { extra: 1 }, 'body.user_id is required'],
    ['an empty object', {}, 'body.user_id is required'],
    ['user_id a number', { ...item, user_id: 123 }, 'body.user_id must be string'],
    ['user_id null', { ...item, user_id: null }, 'body.user_id must be string'],
    ['user_id empty', { ...item, user_id: '' }, 'body.user_id must not have fewer than 1 characters'],
    ['user_id of 256 characters', { ...item, user_id: 'u'.repeat(256) }, 'body.user_id must not have more than 255 characters'],
    ['user_id of a million characters', { ...item, user_id: 'u'.repeat(1_000_000) }, 'body.user_id must not have more than 255 characters'],
    ['user_id of 256 emoji', { ...item, user_id: '😀'.repeat(256) }, 'body.user_id must not have more than 255 characters'],
    ['a missing type', { user_id: 'u', payload: {} }, 'body.type is required'],
    ['type bogus', { ...item, type: 'bogus' }, `body.type ${NOT_A_TYPE}`],
    ['type all_read (not publishable)', { ...item, type: 'all_read' }, `body.type ${NOT_A_TYPE}`],
    ['type a number', { ...item, type: 1 }, `body.type ${NOT_A_TYPE}`],
    ['a missing payload', { user_id: 'u', type: 'new_notification' }, 'body.payload is required'],
    ['payload a string', { ...item, payload: 'hello' }, 'body.payload must be object'],
    ['payload a number', { ...item, payload: 5 }, 'body.payload must be object'],
    ['payload null', { ...item, payload: null }, 'body.payload must be object'],
    ['payload an array', { ...item, payload: [1, 2] }, 'body.payload must be object'],
    ['id empty', { ...item, id: '' }, 'body.id must not have fewer than 1 characters'],
    ['id a number', { ...item, id: 7 }, 'body.id must be string'],
    ['id of 256 characters', { ...item, id: 'i'.repeat(256) }, 'body.id must not have more than 255 characters'],
    ['an extra field', { ...item, foo: 1 }, 'body.foo is not allowed'],
    ['an extra __proto__ field', JSON.parse('{"user_id":"u","type":"task_update","payload":{},"__proto__":{}}'), 'body.__proto__ is not allowed'],
    ['an extra field on the fourth item', [item, item, item, { ...item, when: 'now' }], 'body[3].when is not allowed'],
    ['a payload nested 33 levels', { ...item, payload: nested(33) }, 'body is nested deeper than 32 levels'],
    ['a payload nested 200,000 levels', { ...item, payload: nested(200_000) }, 'body is nested deeper than 32 levels'],
    ['a too deep payload on the second item', [item, { ...item, payload: nested(40) }], 'body[1] is nested deeper than 32 levels'],
    ['a too deep payload on an item that is wrong too (depth is checked first)', { user_id: 7, payload: nested(40) }, 'body is nested deeper than 32 levels'],
  ])('refuses %s', (_name, input, error) => {
    expect(decodePublishBatch(input, 'body')).toEqual(refusal(error));
  });

  it('names the first bad item only, under the root it is given', () => {
    const batch = [item, { ...item, type: 'nope' }, item, { ...item, user_id: 1 }];
    expect(decodePublishBatch(batch, 'body')).toEqual(
      refusal(`body[1].type ${NOT_A_TYPE}`),
    );
    expect(decodePublishBatch([item, item, { ...item, user_id: 1 }], 'input')).toEqual(refusal('input[2].user_id must be string'));
    expect(decodePublishBatch([], 'input')).toEqual(refusal('input must hold at least one item'));
    expect(decodePublishBatch(Array.from({ length: 1001 }, () => item), 'input')).toEqual(refusal('input must hold at most 1000 items'));
    expect(decodePublishBatch({ ...item, payload: nested(33) }, 'input')).toEqual(refusal('input is nested deeper than 32 levels'));
    expect(decodePublishBatch('x', 'input')).toEqual(refusal('input must be object'));
  });

  it(`takes a payload nested ${MAX_PAYLOAD_DEPTH} levels, in arrays too, and large strings in the payload`, () => {
    expect(decodePublishBatch({ ...item, payload: nested(32) }, 'body').ok).toBe(true);
    expect(decodePublishBatch([item, { ...item, payload: { list: nestedArrays(31) } }], 'body').ok).toBe(true);
    expect(decodePublishBatch([item, { ...item, payload: { list: nestedArrays(32) } }], 'body')).toEqual(
      refusal('body[1] is nested deeper than 32 levels'),
    );
    // The shape only: sizes are acceptPublish's (the frame) and the request's (HERALD_MAX_BODY_BYTES).
    expect(decodePublishBatch({ ...item, payload: { text: 'x'.repeat(2_000_000) } }, 'body').ok).toBe(true);
    expect(decodePublishBatch({ ...item, user_id: '😀'.repeat(255) }, 'body').ok).toBe(true);
  });
});

describe('decodeBroadcast', () => {
  const frame = { type: 'task_update', payload: { action: 'maintenance' } };

  it('takes a publishable type and an object payload', () => {
    expect(decodeBroadcast(frame, 'body')).toEqual({ ok: true, value: frame });
    expect(decodeBroadcast({ type: 'new_notification', payload: {} }, 'input').ok).toBe(true);
    expect(decodeBroadcast({ type: 'new_notification', payload: { text: 'x'.repeat(2_000_000) } }, 'body').ok).toBe(true);
  });

  it.each([
    ['null', null, 'body must be object'],
    ['undefined (no body)', undefined, 'body must be object'],
    ['a number', 42, 'body must be object'],
    ['a string', 'hello', 'body must be object'],
    ['an array', [frame], 'body must be object'],
    ['an empty array', [], 'body must be object'],
    ['arrays nested 20,000 deep', nestedArrays(20_000), 'body must be object'],
    ['an empty object', {}, 'body.type is required'],
    ['a missing type', { payload: {} }, 'body.type is required'],
    ['a missing payload', { type: 'new_notification' }, 'body.payload is required'],
    ['a missing payload and a bad type', { type: 'bogus' }, 'body.payload is required'],
    ['type bogus', { type: 'bogus', payload: {} }, `body.type ${NOT_A_TYPE}`],
    ['type all_read (not publishable)', { type: 'all_read', payload: {} }, `body.type ${NOT_A_TYPE}`],
    ['type null', { type: null, payload: {} }, `body.type ${NOT_A_TYPE}`],
    ['type a long string', { type: 't'.repeat(100_000), payload: {} }, `body.type ${NOT_A_TYPE}`],
    ['payload a string', { type: 'new_notification', payload: 'x' }, 'body.payload must be object'],
    ['payload a number', { type: 'new_notification', payload: 5 }, 'body.payload must be object'],
    ['payload null', { type: 'new_notification', payload: null }, 'body.payload must be object'],
    ['payload an array', { type: 'new_notification', payload: [1] }, 'body.payload must be object'],
    ['an extra field', { type: 'new_notification', payload: {}, user_id: 'x' }, 'body.user_id is not allowed'],
    ['an extra field and a bad type', { type: 'bogus', payload: {}, extra: 1 }, 'body.extra is not allowed'],
    ['a payload nested 33 levels', { type: 'new_notification', payload: nested(33) }, 'body.payload is nested deeper than 32 levels'],
    ['a payload nested 200,000 levels', { type: 'task_update', payload: nested(200_000) }, 'body.payload is nested deeper than 32 levels'],
    ['arrays 32 deep in the payload', { type: 'task_update', payload: { list: nestedArrays(32) } }, 'body.payload is nested deeper than 32 levels'],
    // As POST /broadcast always answered: the schema's verdict before the depth.
    ['a too deep payload with a bad type', { type: 'bogus', payload: nested(40) }, `body.type ${NOT_A_TYPE}`],
  ])('refuses %s', (_name, input, error) => {
    expect(decodeBroadcast(input, 'body')).toEqual(refusal(error));
  });

  it(`takes a payload nested ${MAX_PAYLOAD_DEPTH} levels and names the field under the root it is given`, () => {
    expect(decodeBroadcast({ type: 'task_update', payload: nested(32) }, 'body').ok).toBe(true);
    expect(decodeBroadcast({ type: 'task_update', payload: { list: nestedArrays(31) } }, 'body').ok).toBe(true);
    expect(decodeBroadcast({ type: 'task_update', payload: nested(33) }, 'input')).toEqual(refusal('input.payload is nested deeper than 32 levels'));
    expect(decodeBroadcast({ type: 'bogus', payload: {} }, 'input')).toEqual(
      refusal(`input.type ${NOT_A_TYPE}`),
    );
    expect(decodeBroadcast(null, 'input')).toEqual(refusal('input must be object'));
  });
});

/** The error a refused accept carries; fails the test when it was accepted. */
function refusedWith(accepted: { ok: true } | { ok: false; error: HeraldError }): HeraldError {
  if (accepted.ok) throw new Error('accepted');
  expect(accepted.error).toBeInstanceOf(HeraldError);
  return accepted.error;
}

const tooLargeMessage = (place: string, bytes: number, bound: number, upTo = 'up to ') =>
  `${place} is too large to deliver: its frame would be ${upTo}${bytes} bytes, over HERALD_MAX_BUFFERED_BYTES (${bound}), the most a tab may be sent at once`;

describe('acceptPublish and acceptBroadcast: what is accepted fits in one frame under the bound', () => {
  const BOUND = 4096;
  const TYPES: StreamType[] = ['new_notification', 'task_update'];
  /** Padding that JSON or UTF-8 makes larger than its length: two bytes each but for the emoji's four. */
  const PADS = ['x', '"', '\\', '\n', '\u0001', 'é', '😀'];

  describe.each(TYPES)('a %s', (type) => {
    it.each(PADS)('is taken with a frame of the bound or 1 byte under, and refused 1 byte over (padding %j)', (pad) => {
      for (const offset of [-1, 0, 1]) {
        const target = BOUND + offset;
        const { value } = sizedPayload((json) => eventFrameSize(type, json), target, { pad });
        const item = { user_id: 'alice', type, payload: value };
        const accepted = acceptPublish(item, 'input', BOUND);
        if (offset <= 0) {
          expect(accepted).toEqual({ ok: true, value: [{ userId: 'alice', type, payload: value, key: null }] });
          continue;
        }
        const error = refusedWith(acceptPublish(item, 'body', BOUND));
        expect(error.code).toBe(ErrorCode.PayloadTooLarge);
        expect(error.status).toBe(413);
        expect(error.message).toBe(tooLargeMessage('body', target, BOUND));
      }
    });

    it('counts the key: an id of 255 quotes takes 512 bytes of the frame', () => {
      const id = '"'.repeat(255);
      const { value } = sizedPayload((json) => eventFrameSize(type, json, type === 'new_notification' ? id : null), BOUND);
      expect(acceptPublish({ user_id: 'a', type, payload: value, id }, 'input', BOUND).ok).toBe(true);
      expect(acceptPublish({ user_id: 'a', type, payload: value, id }, 'input', BOUND - 1)).toMatchObject({ ok: false });
      if (type === 'new_notification') {
        // The same payload without an id is 508 bytes smaller (null in place of the key).
        expect(acceptPublish({ user_id: 'a', type, payload: value }, 'input', BOUND - 508).ok).toBe(true);
        expect(acceptPublish({ user_id: 'a', type, payload: value }, 'input', BOUND - 509)).toMatchObject({ ok: false });
      }
    });
  });

  it('refuses a whole batch for one item over the bound, naming its place', () => {
    const fits = { user_id: 'a', type: 'task_update', payload: sizedPayload((json) => eventFrameSize('task_update', json), BOUND).value };
    const over = { user_id: 'b', type: 'new_notification', payload: sizedPayload((json) => eventFrameSize('new_notification', json), BOUND + 1, { pad: '😀' }).value };
    expect(acceptPublish([fits, fits, fits], 'body', BOUND).ok).toBe(true);
    const error = refusedWith(acceptPublish([fits, fits, fits, over, fits], 'body', BOUND));
    expect(error.code).toBe(ErrorCode.PayloadTooLarge);
    expect(error.message).toBe(tooLargeMessage('body[3]', BOUND + 1, BOUND));
    expect(refusedWith(acceptPublish([over], 'input', BOUND)).message).toBe(tooLargeMessage('input[0]', BOUND + 1, BOUND));
    // The first of two is named.
    expect(refusedWith(acceptPublish([fits, over, over], 'body', BOUND)).message).toBe(tooLargeMessage('body[1]', BOUND + 1, BOUND));
  });

  it('judges the shape of the whole batch before any size: a malformed item after an oversized one is the 400', () => {
    const over = { user_id: 'b', type: 'task_update', payload: { text: 'x'.repeat(BOUND) } };
    const error = refusedWith(acceptPublish([over, { ...over, user_id: 7 }], 'body', BOUND));
    expect(error.code).toBe(ErrorCode.BadRequest);
    expect(error.status).toBe(400);
    expect(error.message).toBe('body[1].user_id must be string');
    expect(refusedWith(acceptPublish([], 'input', BOUND)).message).toBe('input must hold at least one item');
  });

  it('refuses with a 400 a payload JSON cannot write (a library caller\'s BigInt), before the store sees it', () => {
    const error = refusedWith(acceptPublish({ user_id: 'a', type: 'task_update', payload: { n: 1n } }, 'input', BOUND));
    expect(error.code).toBe(ErrorCode.BadRequest);
    expect(error.message).toMatch(/^input\.payload cannot be written as JSON: /);
    expect(refusedWith(acceptPublish([{ user_id: 'a', type: 'task_update', payload: {} }, { user_id: 'a', type: 'task_update', payload: { n: 1n } }], 'input', BOUND)).message).toMatch(/^input\[1\]\.payload cannot/);
    expect(refusedWith(acceptBroadcast({ type: 'task_update', payload: { n: 1n } }, 'input', BOUND)).message).toMatch(/^input\.payload cannot/);
  });

  describe.each(TYPES)('a broadcast of %s', (type) => {
    it.each(PADS)('is taken with a frame of the bound or 1 byte under, and refused 1 byte over (padding %j)', (pad) => {
      for (const offset of [-1, 0, 1]) {
        const target = BOUND + offset;
        const { value } = sizedPayload((json) => broadcastFrameSize(type, json), target, { pad });
        const accepted = acceptBroadcast({ type, payload: value }, 'body', BOUND);
        if (offset <= 0) {
          expect(accepted).toEqual({ ok: true, value: { type, payload: value } });
          continue;
        }
        const error = refusedWith(accepted);
        expect(error.code).toBe(ErrorCode.PayloadTooLarge);
        expect(error.message).toBe(tooLargeMessage('body', target, BOUND, ''));
      }
    });
  });

  it('keeps the 400 of a malformed broadcast, whatever its size', () => {
    const error = refusedWith(acceptBroadcast({ type: 'bogus', payload: { text: 'x'.repeat(BOUND) } }, 'body', BOUND));
    expect(error.code).toBe(ErrorCode.BadRequest);
    expect(error.message).toBe(`body.type ${NOT_A_TYPE}`);
  });
});
