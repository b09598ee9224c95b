import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import {
  decodeBrokerMessage,
  decodePresenceMessage,
  encodeBrokerMessage,
  encodePresenceMessage,
  type BrokerMessage,
  type PresenceMessage,
} from '../../src/cluster/wire.js';
import { WireDrops } from '../../src/cluster/wire-drops.js';
import type { StoredEvent } from '../../src/store/store.js';

// The messages between nodes: what a node of this version sends is byte for byte what earlier versions sent and
// read, and anything else that arrives on Herald's channels is refused with a reason, never cast and never thrown.

const EVENT: StoredEvent = {
  userId: 'alice',
  seq: 7,
  type: 'new_notification',
  payload: { id: 'n-1', title: 'hello' },
  createdAt: '2026-01-02T03:04:05.000Z',
};

const goodEvent = (override: Record<string, unknown> = {}) =>
  JSON.stringify({ node: 'node-a', event: { ...EVENT, ...override } });

/** Every one of these must be dropped by the broker's decoder; the reason is what it is dropped for. */
const MALFORMED_BROKER: Array<[what: string, text: string, reason: string]> = [
  ['not JSON', 'not json', 'not JSON'],
  ['an empty message', '', 'not JSON'],
  ['truncated JSON', '{"node":"a","event":{', 'not JSON'],
  ['null', 'null', 'not an object'],
  ['a number', '42', 'not an object'],
  ['a string', '"event"', 'not an object'],
  ['an array', '[{"node":"a"}]', 'not an object'],
  ['no node', JSON.stringify({ event: EVENT }), 'invalid field'],
  ['a numeric node', JSON.stringify({ node: 1, event: EVENT }), 'invalid field'],
  ['an empty node', JSON.stringify({ node: '', event: EVENT }), 'invalid field'],
  ['a null node', JSON.stringify({ node: null, event: EVENT }), 'invalid field'],
  ['neither event nor broadcast', JSON.stringify({ node: 'a' }), 'unknown kind'],
  ['another kind', JSON.stringify({ node: 'a', presence: { user: 'alice' } }), 'unknown kind'],
  ['both event and broadcast', JSON.stringify({ node: 'a', event: EVENT, broadcast: { type: 't', payload: {} } }), 'ambiguous kind'],
  ['a null event', JSON.stringify({ node: 'a', event: null }), 'invalid field'],
  ['an event that is an array', JSON.stringify({ node: 'a', event: [EVENT] }), 'invalid field'],
  ['an event that is a string', JSON.stringify({ node: 'a', event: JSON.stringify(EVENT) }), 'invalid field'],
  ['no userId', goodEvent({ userId: undefined }), 'invalid field'],
  ['a numeric userId', goodEvent({ userId: 42 }), 'invalid field'],
  ['an empty userId', goodEvent({ userId: '' }), 'invalid field'],
  ['an object userId', goodEvent({ userId: { id: 'alice' } }), 'invalid field'],
  ['no seq', goodEvent({ seq: undefined }), 'invalid field'],
  ['a string seq', goodEvent({ seq: '7' }), 'invalid field'],
  ['seq 0', goodEvent({ seq: 0 }), 'invalid field'],
  ['a negative seq', goodEvent({ seq: -3 }), 'invalid field'],
  ['a fractional seq', goodEvent({ seq: 1.5 }), 'invalid field'],
  ['seq 2^53', goodEvent({ seq: 2 ** 53 }), 'invalid field'],
  ['a huge seq', goodEvent({ seq: 1e300 }), 'invalid field'],
  ['a seq of 20 digits', '{"node":"a","event":{"userId":"alice","seq":12345678901234567890,"type":"all_read","payload":{},"createdAt":"x"}}', 'invalid field'],
  ['a boolean seq', goodEvent({ seq: true }), 'invalid field'],
  ['a null seq', goodEvent({ seq: null }), 'invalid field'],
  ['no type', goodEvent({ type: undefined }), 'invalid field'],
  ['an unknown type', goodEvent({ type: 'delete_everything' }), 'invalid field'],
  ['a type that would break out of the frame', goodEvent({ type: 'all_read","seq":1,"x":"' }), 'invalid field'],
  ['an inherited name as type', goodEvent({ type: 'toString' }), 'invalid field'],
  ['a numeric type', goodEvent({ type: 3 }), 'invalid field'],
  ['no payload', goodEvent({ payload: undefined }), 'invalid field'],
  ['a null payload', goodEvent({ payload: null }), 'invalid field'],
  ['an array payload', goodEvent({ payload: [1, 2] }), 'invalid field'],
  ['a string payload', goodEvent({ payload: '{}' }), 'invalid field'],
  ['no createdAt', goodEvent({ createdAt: undefined }), 'invalid field'],
  ['a numeric createdAt', goodEvent({ createdAt: 1767323045000 }), 'invalid field'],
  ['a broadcast that is a string', JSON.stringify({ node: 'a', broadcast: 'hello' }), 'invalid field'],
  ['a null broadcast', JSON.stringify({ node: 'a', broadcast: null }), 'invalid field'],
  ['a broadcast without type', JSON.stringify({ node: 'a', broadcast: { payload: {} } }), 'invalid field'],
  ['a broadcast with a numeric type', JSON.stringify({ node: 'a', broadcast: { type: 1, payload: {} } }), 'invalid field'],
  ['a broadcast without payload', JSON.stringify({ node: 'a', broadcast: { type: 'new_notification' } }), 'invalid field'],
  ['a broadcast with an array payload', JSON.stringify({ node: 'a', broadcast: { type: 'new_notification', payload: [] } }), 'invalid field'],
  ['an erasure beside an event', JSON.stringify({ node: 'a', erased: 'alice', event: EVENT }), 'ambiguous kind'],
  ['an erasure beside a broadcast', JSON.stringify({ node: 'a', erased: 'alice', broadcast: { type: 't', payload: {} } }), 'ambiguous kind'],
  ['an erasure of an empty user', JSON.stringify({ node: 'a', erased: '' }), 'invalid field'],
  ['an erasure of a numeric user', JSON.stringify({ node: 'a', erased: 7 }), 'invalid field'],
  ['an erasure of a null user', JSON.stringify({ node: 'a', erased: null }), 'invalid field'],
  ['an erasure of a list of users', JSON.stringify({ node: 'a', erased: ['alice'] }), 'invalid field'],
];

const MALFORMED_PRESENCE: Array<[what: string, text: string, reason: string]> = [
  ['not JSON', '{node:a}', 'not JSON'],
  ['an array', '["a","alice",true]', 'not an object'],
  ['null', 'null', 'not an object'],
  ['no node', JSON.stringify({ user: 'alice', online: true }), 'invalid field'],
  ['a numeric node', JSON.stringify({ node: 7, user: 'alice', online: true }), 'invalid field'],
  ['neither user nor gone', JSON.stringify({ node: 'a' }), 'unknown kind'],
  ['another kind', JSON.stringify({ node: 'a', event: {} }), 'unknown kind'],
  ['a numeric user', JSON.stringify({ node: 'a', user: 42, online: true }), 'invalid field'],
  ['an empty user', JSON.stringify({ node: 'a', user: '', online: true }), 'invalid field'],
  ['a null user', JSON.stringify({ node: 'a', user: null, online: true }), 'invalid field'],
  ['no online', JSON.stringify({ node: 'a', user: 'alice' }), 'invalid field'],
  ['a string online', JSON.stringify({ node: 'a', user: 'alice', online: 'true' }), 'invalid field'],
  ['a numeric online', JSON.stringify({ node: 'a', user: 'alice', online: 1 }), 'invalid field'],
  ['gone false', JSON.stringify({ node: 'a', gone: false }), 'invalid field'],
  ['gone as a string', JSON.stringify({ node: 'a', gone: 'yes' }), 'invalid field'],
  ['gone with a user', JSON.stringify({ node: 'a', gone: true, user: 'alice', online: false }), 'ambiguous kind'],
];

describe('broker messages between nodes', () => {
  it.each(MALFORMED_BROKER)('drops %s', (_what, text, reason) => {
    const decoded = decodeBrokerMessage(text);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) {
      expect(decoded.error.reason).toBe(reason);
      expect(decoded.error.detail.length).toBeGreaterThan(0);
    }
  });

  it('decodes the largest seq that still names one event', () => {
    const decoded = decodeBrokerMessage(goodEvent({ seq: Number.MAX_SAFE_INTEGER }));
    expect(decoded).toMatchObject({ ok: true, value: { kind: 'event', event: { seq: Number.MAX_SAFE_INTEGER } } });
  });

  it.each(['new_notification', 'task_update', 'notification_read', 'all_read'])('accepts the stream event type %s', (type) => {
    expect(decodeBrokerMessage(goodEvent({ type })).ok).toBe(true);
  });

  it('sends an event in the format of earlier versions, without the JSON text the store kept', () => {
    const message: BrokerMessage = { kind: 'event', node: 'node-a', event: { ...EVENT, payloadJson: '{"id":"n-1","title":"hello"}' } };
    expect(encodeBrokerMessage(message)).toBe(
      '{"node":"node-a","event":{"userId":"alice","seq":7,"type":"new_notification","payload":{"id":"n-1","title":"hello"},"createdAt":"2026-01-02T03:04:05.000Z"}}',
    );
    expect(decodeBrokerMessage(encodeBrokerMessage(message))).toEqual({ ok: true, value: { kind: 'event', node: 'node-a', event: EVENT } });
  });

  it('sends a broadcast in the format of earlier versions', () => {
    const message: BrokerMessage = { kind: 'broadcast', node: 'node-b', broadcast: { type: 'new_notification', payload: { title: 'all' } } };
    expect(encodeBrokerMessage(message)).toBe('{"node":"node-b","broadcast":{"type":"new_notification","payload":{"title":"all"}}}');
    expect(decodeBrokerMessage(encodeBrokerMessage(message))).toEqual({ ok: true, value: message });
  });

  it('sends and reads an erasure: the user it names', () => {
    const message: BrokerMessage = { kind: 'erased', node: 'node-c', user: 'alice' };
    expect(encodeBrokerMessage(message)).toBe('{"node":"node-c","erased":"alice"}');
    expect(decodeBrokerMessage(encodeBrokerMessage(message))).toEqual({ ok: true, value: message });
  });

  it('ignores fields it does not know, and never keeps a payloadJson a peer sent', () => {
    const text = JSON.stringify({
      node: 'node-a',
      version: 9,
      event: { ...EVENT, payloadJson: '{"injected":true}', priority: 'high' },
    });
    expect(decodeBrokerMessage(text)).toEqual({ ok: true, value: { kind: 'event', node: 'node-a', event: EVENT } });
  });
});

describe('presence messages between nodes', () => {
  it.each(MALFORMED_PRESENCE)('drops %s', (_what, text, reason) => {
    const decoded = decodePresenceMessage(text);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.error.reason).toBe(reason);
  });

  it.each<[PresenceMessage, string]>([
    [{ kind: 'online', node: 'node-a', user: 'alice' }, '{"node":"node-a","user":"alice","online":true}'],
    [{ kind: 'offline', node: 'node-a', user: 'alice' }, '{"node":"node-a","user":"alice","online":false}'],
    [{ kind: 'gone', node: 'node-a' }, '{"node":"node-a","gone":true}'],
  ])('sends %o in the format of earlier versions', (message, text) => {
    expect(encodePresenceMessage(message)).toBe(text);
    expect(decodePresenceMessage(text)).toEqual({ ok: true, value: message });
  });
});

describe('dropped messages in the log', () => {
  it('warns once per reason, then only at debug, and never logs the message itself', () => {
    const lines: Array<Record<string, unknown>> = [];
    const drops = new WireDrops(createLogger('debug', { write: (line: string) => void lines.push(JSON.parse(line)) }), 'broker');
    drops.drop('not JSON', 'the message is not valid JSON', 'p:user:alice');
    drops.drop('not JSON', 'the message is not valid JSON', 'p:user:alice');
    drops.drop('invalid field', 'event.seq must be a positive safe integer', 'p:user:bob');
    drops.drop('not JSON', 'the message is not valid JSON', 'p:user:alice');

    const levels = lines.map((line) => [line['reason'], line['level']]);
    expect(levels).toEqual([
      ['not JSON', 40],
      ['not JSON', 20],
      ['invalid field', 40],
      ['not JSON', 20],
    ]);
    expect(lines[2]).toMatchObject({ receiver: 'broker', channel: 'p:user:bob', detail: 'event.seq must be a positive safe integer' });
    expect(drops.count('not JSON')).toBe(3);
    expect(drops.count('wrong channel')).toBe(0);
  });
});
