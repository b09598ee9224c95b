import { ErrorCode } from '@herald/protocol';
import { describe, expect, it } from 'vitest';
import { nestedDeeperThan } from '../../src/ingest/json-depth.js';
import { decodeKafkaRecord } from '../../src/ingest/kafka-record.js';
import { decodePublishItem, MAX_PAYLOAD_DEPTH, toAppendInput } from '../../src/ingest/publish-item.js';
import { decodeClientFrame } from '../../src/transport/client-frame.js';
import { acceptedIdentifiers, refusedIdentifiers } from '../http/identifier-forms.js';

const MIB = 1024 * 1024;

/** An object nested `depth` levels deep: depth 1 is `{}`. */
function nested(depth: number): unknown {
  let value: unknown = {};
  for (let i = 1; i < depth; i++) value = { next: value };
  return value;
}

/** An array nested `depth` levels deep: depth 1 is `[]`. */
function nestedArray(depth: number): unknown {
  let value: unknown = [];
  for (let i = 1; i < depth; i++) value = [1, value];
  return value;
}

describe('nestedDeeperThan', () => {
  it('counts objects and arrays as levels, and scalars as none', () => {
    expect(nestedDeeperThan('text', 0)).toBe(false);
    expect(nestedDeeperThan(null, 0)).toBe(false);
    expect(nestedDeeperThan(nested(1), 0)).toBe(true);
    expect(nestedDeeperThan(nested(1), 1)).toBe(false);
    expect(nestedDeeperThan(nested(3), 3)).toBe(false);
    expect(nestedDeeperThan(nested(4), 3)).toBe(true);
    expect(nestedDeeperThan(nestedArray(3), 3)).toBe(false);
    expect(nestedDeeperThan(nestedArray(4), 3)).toBe(true);
  });

  it('looks at every branch, not only the first or the last', () => {
    expect(nestedDeeperThan({ a: nested(3), b: 1, c: null }, 3)).toBe(true);
    expect(nestedDeeperThan({ a: 1, b: nested(3), c: 'x' }, 3)).toBe(true);
    expect(nestedDeeperThan([nested(3), 'x', null], 3)).toBe(true);
    expect(nestedDeeperThan({ a: nested(2), b: nested(2) }, 3)).toBe(false);
  });

  it('walks a value far deeper than the stack would take', () => {
    expect(nestedDeeperThan(nested(200_000), 32)).toBe(true);
  });
});

describe('decodePublishItem', () => {
  const item = { user_id: 'alice', type: 'new_notification', payload: { title: 'hi' } };

  it('takes a valid item as it is', () => {
    expect(decodePublishItem(item, 'body')).toEqual({ ok: true, value: item });
    expect(decodePublishItem({ ...item, type: 'task_update', id: 'k' }, 'body').ok).toBe(true);
  });

  it(`takes a payload nested ${MAX_PAYLOAD_DEPTH} levels deep and refuses one level more`, () => {
    expect(MAX_PAYLOAD_DEPTH).toBe(32);
    expect(decodePublishItem({ ...item, payload: nested(32) }, 'body').ok).toBe(true);
    expect(decodePublishItem({ ...item, payload: nested(33) }, 'body[3]')).toEqual({
      ok: false,
      error: 'body[3] is nested deeper than 32 levels',
    });
  });

  it('bounds user_id and id to 1..255 characters', () => {
    expect(decodePublishItem({ ...item, user_id: 'x'.repeat(255) }, 'b').ok).toBe(true);
    expect(decodePublishItem({ ...item, user_id: 'x'.repeat(256) }, 'b').ok).toBe(false);
    expect(decodePublishItem({ ...item, user_id: '' }, 'b').ok).toBe(false);
    expect(decodePublishItem({ ...item, id: 'x'.repeat(255) }, 'b').ok).toBe(true);
    expect(decodePublishItem({ ...item, id: 'x'.repeat(256) }, 'b').ok).toBe(false);
    expect(decodePublishItem({ ...item, id: '' }, 'b').ok).toBe(false);
  });

  it('takes user_id and id only when they are identifiers (no C0 control, no lone surrogate), naming the field', () => {
    for (const { name, value } of refusedIdentifiers) {
      expect({ name, decoded: decodePublishItem({ ...item, user_id: value }, 'body[1]') }).toEqual({
        name,
        decoded: { ok: false, error: expect.stringMatching(/^body\[1\]\.user_id /) },
      });
      expect({ name, decoded: decodePublishItem({ ...item, id: value }, 'body') }).toEqual({
        name,
        decoded: { ok: false, error: expect.stringMatching(/^body\.id /) },
      });
    }
    for (const { name, value } of acceptedIdentifiers) {
      const taken = { ...item, user_id: value, id: value };
      expect({ name, decoded: decodePublishItem(taken, 'body') }).toEqual({ name, decoded: { ok: true, value: taken } });
    }
  });

  it('names the field under the root it was given', () => {
    const decoded = decodePublishItem({ ...item, user_id: 7 }, 'body[2]');
    expect(decoded).toEqual({ ok: false, error: expect.stringMatching(/^body\[2\]\.user_id /) });
  });

  it('refuses other types, a payload that is not an object, and extra fields', () => {
    expect(decodePublishItem({ ...item, type: 'all_read' }, 'b').ok).toBe(false);
    expect(decodePublishItem({ ...item, payload: [] }, 'b').ok).toBe(false);
    expect(decodePublishItem({ ...item, extra: 1 }, 'b').ok).toBe(false);
  });

  it('keys an item by its id, else by the fallback, else not at all', () => {
    expect(toAppendInput({ user_id: 'a', type: 'task_update', payload: { x: 1 }, id: 'own' }, 'fallback')).toEqual({
      userId: 'a',
      type: 'task_update',
      payload: { x: 1 },
      key: 'own',
    });
    expect(toAppendInput({ user_id: 'a', type: 'task_update', payload: {} }, 'fallback').key).toBe('fallback');
    expect(toAppendInput({ user_id: 'a', type: 'task_update', payload: {} }).key).toBeNull();
  });
});

describe('decodeKafkaRecord', () => {
  const base = { topic: 't', partition: 0, offset: 0n, key: null };

  it('takes a value of exactly 1 MiB', () => {
    const json = JSON.stringify({ user_id: 'a', type: 'task_update', payload: { pad: '' } });
    const padded = json.replace('"pad":""', `"pad":"${'x'.repeat(1024 * 1024 - json.length)}"`);
    expect(Buffer.byteLength(padded)).toBe(1024 * 1024);
    expect(decodeKafkaRecord({ ...base, value: Buffer.from(padded) }, MIB).ok).toBe(true);
  });

  it('dead-letters a record whose user_id or id is not an identifier, and keeps the others exactly', () => {
    const record = (value: Record<string, unknown>) => ({ ...base, value: Buffer.from(JSON.stringify(value)) });
    for (const { name, value } of refusedIdentifiers) {
      // JSON.stringify writes NUL and lone surrogates as \u escapes, which is how a producer's JSON carries them.
      const byUser = decodeKafkaRecord(record({ user_id: value, type: 'task_update', payload: {} }), MIB);
      expect({ name, byUser }).toEqual({ name, byUser: { ok: false, error: expect.stringMatching(/^value\.user_id /) } });
      const byId = decodeKafkaRecord(record({ user_id: 'a', type: 'task_update', payload: {}, id: value }), MIB);
      expect({ name, byId }).toEqual({ name, byId: { ok: false, error: expect.stringMatching(/^value\.id /) } });
    }
    for (const { name, value } of acceptedIdentifiers) {
      const decoded = decodeKafkaRecord(record({ user_id: value, type: 'task_update', payload: {}, id: value }), MIB);
      expect({ name, decoded }).toEqual({ name, decoded: { ok: true, value: { userId: value, type: 'task_update', payload: {}, key: value } } });
    }
    // Bytes that are not UTF-8 are read as U+FFFD, which is a character like any other.
    const raw = Buffer.concat([Buffer.from('{"user_id":"a'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('","type":"task_update","payload":{}}')]);
    expect(decodeKafkaRecord({ ...base, value: raw }, MIB)).toMatchObject({ ok: true, value: { userId: 'a\uFFFD\uFFFD\uFFFD' } });
  });

  it('refuses an undefined value as empty, and names the field of a bad item under value', () => {
    expect(decodeKafkaRecord({ ...base, value: undefined }, MIB)).toEqual({ ok: false, error: 'value is empty' });
    const bad = decodeKafkaRecord({ ...base, value: Buffer.from('{"user_id":1}') }, MIB);
    expect(bad).toEqual({ ok: false, error: expect.stringMatching(/^value\./) });
  });
});

describe('decodeClientFrame', () => {
  it('takes ping and pong with or without an object payload', () => {
    expect(decodeClientFrame('{"type":"ping"}')).toEqual({ ok: true, value: { type: 'ping' } });
    expect(decodeClientFrame('{"type":"pong","payload":{}}')).toEqual({ ok: true, value: { type: 'pong' } });
    expect(decodeClientFrame('{"type":"ping","payload":{"any":1}}')).toEqual({ ok: true, value: { type: 'ping' } });
    expect(decodeClientFrame('{"type":"ping","payload":3}')).toEqual({
      ok: false,
      error: { code: ErrorCode.InvalidFrame, message: 'payload must be an object' },
    });
    expect(decodeClientFrame('{"type":"pong","payload":null}').ok).toBe(false);
  });

  it('takes resume with a non-negative integer since, and only the since', () => {
    expect(decodeClientFrame('{"type":"resume","payload":{"since":0}}')).toEqual({
      ok: true,
      value: { type: 'resume', payload: { since: 0 } },
    });
    expect(decodeClientFrame('{"type":"resume","payload":{"since":5,"x":1}}')).toEqual({
      ok: true,
      value: { type: 'resume', payload: { since: 5 } },
    });
    for (const payload of ['{"since":-1}', '{"since":1.5}', '{"since":"1"}', '{}']) {
      const decoded = decodeClientFrame(`{"type":"resume","payload":${payload}}`);
      expect(decoded).toEqual({ ok: false, error: { code: ErrorCode.InvalidFrame, message: expect.stringMatching(/^payload/) } });
    }
    expect(decodeClientFrame('{"type":"resume"}').ok).toBe(false);
  });

  it('takes refresh with a token of 1 to 16,384 characters', () => {
    expect(decodeClientFrame('{"type":"refresh","payload":{"token":"t","x":1}}')).toEqual({
      ok: true,
      value: { type: 'refresh', payload: { token: 't' } },
    });
    const at = (length: number) => decodeClientFrame(JSON.stringify({ type: 'refresh', payload: { token: 'x'.repeat(length) } }));
    expect(at(16_384).ok).toBe(true);
    expect(at(16_385)).toEqual({ ok: false, error: { code: ErrorCode.InvalidFrame, message: expect.stringMatching(/^payload/) } });
    expect(at(0).ok).toBe(false);
  });

  it('answers text that is not a JSON object with a type', () => {
    expect(decodeClientFrame('{')).toEqual({ ok: false, error: { code: ErrorCode.InvalidJson, message: 'Frame is not valid JSON' } });
    const notObject = { ok: false, error: { code: ErrorCode.InvalidFrame, message: 'Frame must be a JSON object with a "type"' } };
    expect(decodeClientFrame('null')).toEqual(notObject);
    expect(decodeClientFrame('[]')).toEqual(notObject);
    expect(decodeClientFrame('"ping"')).toEqual(notObject);
    expect(decodeClientFrame('{"type":1}')).toEqual({ ok: false, error: { code: ErrorCode.InvalidFrame, message: 'type must be a string' } });
  });

  it('names an unknown type, cut to 40 characters', () => {
    expect(decodeClientFrame('{"type":"hello"}')).toEqual({ ok: false, error: { code: ErrorCode.UnknownType, message: 'Unknown frame type "hello"' } });
    const forty = 'y'.repeat(40);
    expect(decodeClientFrame(JSON.stringify({ type: forty }))).toMatchObject({ error: { message: `Unknown frame type "${forty}"` } });
    expect(decodeClientFrame(JSON.stringify({ type: `${forty}z` }))).toMatchObject({ error: { message: `Unknown frame type "${forty}…"` } });
  });
});
