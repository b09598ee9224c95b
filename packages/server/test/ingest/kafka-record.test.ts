import { describe, expect, it } from 'vitest';
import { decodeKafkaRecord, type RecordLike } from '../../src/ingest/kafka-record.js';

function record(value: unknown, overrides: Partial<RecordLike> = {}): RecordLike {
  const bytes = value instanceof Buffer ? value : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  return { topic: 'notifications', partition: 2, offset: 41n, key: Buffer.from('alice'), value: bytes, ...overrides };
}

describe('decoding a Kafka record', () => {
  it('takes a publish item and keys it by the producer id', () => {
    const decoded = decodeKafkaRecord(record({ user_id: 'alice', type: 'new_notification', payload: { title: 'hi' }, id: 'n-1' }));
    expect(decoded).toEqual({
      ok: true,
      input: { userId: 'alice', type: 'new_notification', payload: { title: 'hi' }, key: 'n-1' },
    });
  });

  it('keys a record without an id by topic/partition/offset, so a redelivery is recognised', () => {
    const decoded = decodeKafkaRecord(record({ user_id: 'alice', type: 'task_update', payload: { action: 'done', task: {} } }));
    expect(decoded).toMatchObject({ ok: true, input: { key: 'kafka:notifications/2/41' } });
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
  ])('refuses %s with a reason for the dead-letter header', (_case, value, reason) => {
    const decoded = decodeKafkaRecord(record(value));
    expect(decoded.ok).toBe(false);
    expect(decoded).toMatchObject({ reason: expect.stringMatching(new RegExp(`^${escape(reason)}$`, 'i')) });
  });

  it('refuses a null value (a tombstone) and an oversized value before parsing', () => {
    expect(decodeKafkaRecord(record('', { value: null }))).toEqual({ ok: false, reason: 'value is empty' });
    const huge = Buffer.alloc(1024 * 1024 + 1, 0x20);
    expect(decodeKafkaRecord(record(huge))).toEqual({ ok: false, reason: 'value is larger than 1048576 bytes' });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
