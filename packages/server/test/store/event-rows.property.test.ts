import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventRows } from '../../src/store/event-rows.js';
import { encodeEvent } from '../../src/transport/encode.js';

const inputs = fc.record({
  userId: fc.string({ minLength: 1, maxLength: 20 }),
  type: fc.constantFrom('new_notification' as const, 'task_update' as const),
  // Keys with quotes, backslashes, control characters and lone surrogates: the text around them is built by hand.
  key: fc.option(fc.string({ unit: 'binary', maxLength: 30 }), { nil: null }),
  payload: fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue()),
});

describe('property: an event serialised once', () => {
  it('has the JSON text that serialising its payload gives, the frame that serialising the frame gives, and its rows', () => {
    fc.assert(
      fc.property(inputs, fc.integer({ min: 1, max: 2 ** 40 }), (input, seq) => {
        const createdAt = new Date(0).toISOString();
        const { event, eventRow, notificationRow } = eventRows(input, seq, createdAt);
        expect(event.payloadJson).toBe(JSON.stringify(event.payload));
        expect(JSON.parse(event.payloadJson)).toEqual(JSON.parse(JSON.stringify(event.payload)));
        const frame = encodeEvent(event).toString();
        expect(frame).toBe(JSON.stringify({ type: input.type, seq, payload: event.payload }));
        const { userId, type, key } = input;
        expect(eventRow).toEqual({ user_id: userId, seq, type, key, payload: event.payloadJson, created_at: createdAt });
        if (input.type === 'new_notification') {
          expect(notificationRow).toEqual({
            id: (event.payload as { id: string }).id,
            user_id: userId,
            seq,
            key,
            status: 'unread',
            created_at: createdAt,
            read_at: null,
            payload: JSON.stringify(input.payload),
          });
          expect(event.payload).toMatchObject({ key: input.key, status: 'unread', created_at: createdAt, read_at: null });
        } else {
          expect(notificationRow).toBeNull();
        }
      }),
      { numRuns: 500 },
    );
  });
});
