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
  category: fc.option(fc.stringMatching(/^[a-z0-9_.-]{1,64}$/), { nil: null }),
  expiresAt: fc.option(fc.date({ min: new Date(0), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString()), { nil: null }),
  actions: fc.option(
    fc.array(fc.record({ id: fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/), label: fc.string({ unit: 'binary', minLength: 1 }), url: fc.option(fc.webUrl(), { nil: undefined }) }, { requiredKeys: ['id', 'label'] }), { maxLength: 5 }),
    { nil: null },
  ),
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
        const payloadBytes = Buffer.byteLength(event.payloadJson);
        if (input.type === 'new_notification') {
          const id = (event.payload as { id: string }).id;
          // The stream row names the notification and holds only the size of the record the frame carries.
          expect(eventRow).toEqual({ user_id: userId, seq, type, key, notification_id: id, payload: null, payload_bytes: payloadBytes, created_at: createdAt });
          const actions = input.actions === null || input.actions.length === 0 ? null : input.actions;
          expect(notificationRow).toEqual({
            id,
            user_id: userId,
            seq,
            key,
            category: input.category,
            status: 'unread',
            seen_at: null,
            read_at: null,
            archived_at: null,
            expires_at: input.expiresAt,
            created_at: createdAt,
            actions: actions === null ? null : JSON.stringify(actions),
            actioned_id: null,
            actioned_at: null,
            payload: JSON.stringify(input.payload),
            payload_bytes: Buffer.byteLength(JSON.stringify(input.payload)),
          });
          expect(event.payload).toMatchObject({ key: input.key, status: 'unread', created_at: createdAt, read_at: null });
          // Fields that are unset are left out, so a record without them is the text it was before they existed.
          expect('category' in event.payload).toBe(input.category !== null);
          expect('expires_at' in event.payload).toBe(input.expiresAt !== null);
          expect('actions' in event.payload).toBe(actions !== null);
        } else {
          expect(eventRow).toEqual({ user_id: userId, seq, type, key, notification_id: null, payload: event.payloadJson, payload_bytes: payloadBytes, created_at: createdAt });
          expect(notificationRow).toBeNull();
        }
      }),
      { numRuns: 500 },
    );
  });
});
