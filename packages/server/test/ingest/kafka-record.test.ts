import { describe, expect, it } from 'vitest';
import { decodeKafkaRecord, sortBatch, type RecordLike } from '../../src/ingest/kafka-record.js';

const MIB = 1024 * 1024;

function record(value: unknown, overrides: Partial<RecordLike> = {}): RecordLike {
  const bytes = value instanceof Buffer ? value : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  return { topic: 'notifications', partition: 2, offset: 41n, key: Buffer.from('alice'), value: bytes, ...overrides };
}

describe('decoding a Kafka record', () => {
  it('takes a publish item and keys it by the producer id', () => {
    const decoded = decodeKafkaRecord(record({ user_id: 'alice', type: 'new_notification', payload: { title: 'hi' }, id: 'n-1' }), MIB);
    expect(decoded).toEqual({
      ok: true,
      value: { userId: 'alice', type: 'new_notification', payload: { title: 'hi' }, key: 'n-1' },
    });
  });

  it("carries a notification's category, expiry and actions, as an HTTP item does", () => {
    const actions = [{ id: 'pay', label: 'Pay', url: 'https://example.com/pay' }];
    const item = { user_id: 'alice', type: 'new_notification', payload: {}, category: 'billing', expires_at: '2030-01-02T03:04:05+01:00', actions };
    expect(decodeKafkaRecord(record(item), MIB)).toMatchObject({
      ok: true,
      value: { category: 'billing', expiresAt: '2030-01-02T02:04:05.000Z', actions },
    });
    const before = Date.now();
    const decoded = decodeKafkaRecord(record({ user_id: 'alice', type: 'new_notification', payload: {}, ttl_s: 60 }), MIB);
    const expiresAt = Date.parse((decoded as { value: { expiresAt: string } }).value.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 60_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 60_000);
  });

  it('keys a record without an id by topic/partition/offset, so a redelivery is recognised', () => {
    const decoded = decodeKafkaRecord(record({ user_id: 'alice', type: 'task_update', payload: { action: 'done', task: {} } }), MIB);
    expect(decoded).toMatchObject({ ok: true, value: { key: 'kafka:notifications/2/41' } });
  });

  it.each([
    ['an empty value', Buffer.alloc(0), 'value is empty'],
    ['a value that is not JSON', '{"user_id": ', 'value is not valid JSON'],
    ['invalid UTF-8 bytes', Buffer.from([0xff, 0xfe, 0x7b]), 'value is not valid JSON'],
    ['a JSON array', [], 'value must be object'],
    ['a missing user_id', { type: 'new_notification', payload: {} }, 'value.user_id is required'],
    ['an empty user_id', { user_id: '', type: 'new_notification', payload: {} }, 'value.user_id must not have fewer than 1 characters'],
    [
      'an unknown type',
      { user_id: 'a', type: 'all_read', payload: {} },
      'value.type must be equal to one of the allowed values (new_notification, task_update)',
    ],
    ['a payload that is not an object', { user_id: 'a', type: 'new_notification', payload: 'x' }, 'value.payload must be object'],
    ['an extra field', { user_id: 'a', type: 'new_notification', payload: {}, when: 1 }, 'value.when is not allowed'],
    ['a category on a task_update', { user_id: 'a', type: 'task_update', payload: {}, category: 'x' }, 'value.category is for new_notification only: a task_update is not kept in the inbox'],
    ['both expiries', { user_id: 'a', type: 'new_notification', payload: {}, ttl_s: 5, expires_at: '2030-01-01T00:00:00Z' }, 'value must give expires_at or ttl_s, not both'],
    ['a day that does not exist', { user_id: 'a', type: 'new_notification', payload: {}, expires_at: '2030-02-30T00:00:00Z' }, 'value.expires_at is not a valid time'],
    ['a NUL in the payload', { user_id: 'a', type: 'new_notification', payload: { t: 'a\u0000b' } }, 'value.payload holds a string with a NUL character (U+0000), which Herald cannot store'],
    ['a lone surrogate in a payload key', { user_id: 'a', type: 'new_notification', payload: { ['k\ud800']: 1 } }, 'value.payload holds a string with a lone surrogate (U+D800 to U+DFFF unpaired), which Herald cannot store'],
    ['two actions with one id', { user_id: 'a', type: 'new_notification', payload: {}, actions: [{ id: 'x', label: 'X' }, { id: 'x', label: 'Y' }] }, 'value.actions has the id "x" twice'],
  ])('refuses %s with a reason for the dead-letter header', (_case, value, reason) => {
    const decoded = decodeKafkaRecord(record(value), MIB);
    expect(decoded.ok).toBe(false);
    expect(decoded).toMatchObject({ error: expect.stringMatching(new RegExp(`^${escape(reason)}$`, 'i')) });
  });

  it('refuses a null value (a tombstone) and an oversized value before parsing', () => {
    expect(decodeKafkaRecord(record('', { value: null }), MIB)).toEqual({ ok: false, error: 'value is empty' });
    const huge = Buffer.alloc(1024 * 1024 + 1, 0x20);
    expect(decodeKafkaRecord(record(huge), MIB)).toEqual({ ok: false, error: 'value is larger than 1048576 bytes' });
  });

  it('takes a value of exactly the limit it is given and names that limit when refusing one byte more', () => {
    const json = JSON.stringify({ user_id: 'a', type: 'task_update', payload: { pad: '' } });
    const sized = (bytes: number) => Buffer.from(json.replace('"pad":""', `"pad":"${'x'.repeat(bytes - json.length)}"`));
    expect(decodeKafkaRecord(record(sized(2048)), 2048).ok).toBe(true);
    expect(decodeKafkaRecord(record(sized(2049)), 2048)).toEqual({ ok: false, error: 'value is larger than 2048 bytes' });
    expect(decodeKafkaRecord(record(sized(2049)), 4096).ok).toBe(true);
    // Measured in bytes, not characters: 1,000 two-byte characters are 2,000 bytes.
    const wide = Buffer.from(JSON.stringify({ user_id: 'a', type: 'task_update', payload: { text: 'é'.repeat(1000) } }));
    expect(decodeKafkaRecord(record(wide), 2000)).toEqual({ ok: false, error: 'value is larger than 2000 bytes' });
    // Refused unread: bytes that are not JSON at all get the size reason, not the parse one.
    expect(decodeKafkaRecord(record(Buffer.alloc(101, 0x7b)), 100)).toEqual({ ok: false, error: 'value is larger than 100 bytes' });
  });
});

describe('sorting a Kafka batch', () => {
  it('keeps the decodable records in their order and pairs every other one with its reason', () => {
    const good = (n: number) => record({ user_id: 'a', type: 'task_update', payload: { n } }, { offset: BigInt(n) });
    const tooLarge = record({ user_id: 'a', type: 'task_update', payload: { text: 'x'.repeat(200) } }, { offset: 2n });
    const notJson = record('{', { offset: 4n });
    const { accepted, dead } = sortBatch([good(1), tooLarge, good(3), notJson, good(5)], 150);
    expect(accepted.map(({ record }) => record.offset)).toEqual([1n, 3n, 5n]);
    expect(accepted.map(({ input }) => [input.payload['n'], input.key])).toEqual([
      [1, 'kafka:notifications/2/1'],
      [3, 'kafka:notifications/2/3'],
      [5, 'kafka:notifications/2/5'],
    ]);
    expect(dead).toEqual([
      { record: tooLarge, reason: 'value is larger than 150 bytes' },
      { record: notJson, reason: 'value is not valid JSON' },
    ]);
    expect(sortBatch([], 150)).toEqual({ accepted: [], dead: [] });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('decoding a record of an existing topic (HERALD_KAFKA_FORMAT=headers)', () => {
  const headers = (entries: [string | Buffer, string | Buffer][]) =>
    new Map(entries.map(([name, value]) => [Buffer.from(name), Buffer.from(value)]));
  const decode = (value: unknown, overrides: Partial<RecordLike> = {}) => decodeKafkaRecord(record(value, overrides), MIB, undefined, 'headers');

  it('takes the user from the key, the type and id from headers, and the whole value as the payload', () => {
    const decoded = decode({ title: 'Build 7 passed', url: '/builds/7' }, { headers: headers([['herald-type', 'task_update'], ['herald-id', 'build-7']]) });
    expect(decoded).toEqual({
      ok: true,
      value: { userId: 'alice', type: 'task_update', payload: { title: 'Build 7 passed', url: '/builds/7' }, key: 'build-7' },
    });
  });

  it('defaults the type to new_notification and the id to the record’s coordinates', () => {
    expect(decode({ title: 'hi' })).toEqual({
      ok: true,
      value: { userId: 'alice', type: 'new_notification', payload: { title: 'hi' }, key: 'kafka:notifications/2/41' },
    });
  });

  it('prefers the herald-user-id header to the key, and needs no key with it', () => {
    const withBoth = decode({}, { headers: headers([['herald-user-id', 'bob']]) });
    expect(withBoth).toMatchObject({ ok: true, value: { userId: 'bob' } });
    const withoutKey = decode({}, { key: null, headers: headers([['herald-user-id', 'carol']]) });
    expect(withoutKey).toMatchObject({ ok: true, value: { userId: 'carol' } });
  });

  it('takes the first of repeated headers and leaves other headers alone', () => {
    const decoded = decode({}, { headers: headers([['trace-id', '\u00ff'], ['herald-type', 'task_update'], ['herald-type', 'mark_read']]) });
    expect(decoded).toMatchObject({ ok: true, value: { type: 'task_update' } });
  });

  it.each([
    ['no key and no user header', {}, { key: null }, 'record has no user id: neither a key nor a herald-user-id header'],
    ['an empty key and no user header', {}, { key: Buffer.alloc(0) }, 'record has no user id: neither a key nor a herald-user-id header'],
    ['a key that is not UTF-8', {}, { key: Buffer.from([0xc3, 0x28]) }, 'key is not valid UTF-8'],
    ['a user header that is not UTF-8', {}, { headers: new Map([[Buffer.from('herald-user-id'), Buffer.from([0xff])]]) }, 'header herald-user-id is not valid UTF-8'],
    ['a type header that is not UTF-8', {}, { headers: new Map([[Buffer.from('herald-type'), Buffer.from([0xe2, 0x82])]]) }, 'header herald-type is not valid UTF-8'],
    ['a value that is an array', [1, 2], {}, 'value must be a JSON object (the payload)'],
    ['a value that is a string', '"hello"', {}, 'value must be a JSON object (the payload)'],
    ['a value that is null', null, {}, 'value must be a JSON object (the payload)'],
    ['a value that is a number', 42, {}, 'value must be a JSON object (the payload)'],
  ])('refuses %s', (_name, value, overrides, reason) => {
    expect(decode(value, overrides as Partial<RecordLike>)).toEqual({ ok: false, error: reason });
  });

  it.each([
    ['a type Herald does not publish', [['herald-type', 'mark_read']], /^record\.type /],
    ['an empty type', [['herald-type', '']], /^record\.type /],
    ['a user id with a control character', [['herald-user-id', 'a\u0001b']], /^record\.user_id /],
    ['an empty user header', [['herald-user-id', '']], /^record\.user_id /],
    ['an id longer than 255 characters', [['herald-id', 'x'.repeat(256)]], /^record\.id /],
    ['an empty id', [['herald-id', '']], /^record\.id /],
  ])('checks what the headers give as any item is checked: %s', (_name, entries, reason) => {
    const decoded = decode({}, { headers: headers(entries as [string, string][]) });
    expect(decoded.ok).toBe(false);
    expect(decoded.ok ? '' : decoded.error).toMatch(reason);
  });

  it('still refuses values that are empty, too large, not JSON, or nested too deep', () => {
    expect(decode(Buffer.alloc(0))).toEqual({ ok: false, error: 'value is empty' });
    expect(decodeKafkaRecord(record({ text: 'x'.repeat(200) }), 100, undefined, 'headers')).toEqual({ ok: false, error: 'value is larger than 100 bytes' });
    expect(decode('{"title": ')).toEqual({ ok: false, error: 'value is not valid JSON' });
    let deep: unknown = {};
    for (let level = 0; level < 40; level++) deep = { deeper: deep };
    expect(decode(deep)).toMatchObject({ ok: false });
  });
});
