import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MarkReadBody } from '../../src/http/schemas.js';
import { createValidatorCompiler } from '../../src/http/validator-compiler.js';
import { IdempotencyKey, isIdentifier, MAX_IDENTIFIER_LENGTH, NotificationId, UserId } from '../../src/identifiers.js';
import { decodePublishItem } from '../../src/ingest/publish-item.js';
import { identifierLike, isIdentifierByHand } from '../http/identifier-forms.js';

// The identifier rule is written once (src/identifiers.ts) but checked by two engines: TypeBox (publish items, Kafka
// records, tokens) and Fastify's Ajv (mark-read bodies). Both must read the one pattern and the one length alike.

describe('property: one identifier rule in every validator', () => {
  const validate = createValidatorCompiler()({ schema: MarkReadBody, method: 'POST', url: '/notifications/mark-read', httpPart: 'body' }) as (
    value: unknown,
  ) => boolean;

  it('isIdentifier, the publish item schema, the mark-read body (Ajv) and a hand-written reading agree on any string', () => {
    fc.assert(
      fc.property(identifierLike, (text) => {
        const expected = isIdentifierByHand(text);
        expect(isIdentifier(text)).toBe(expected);
        expect(decodePublishItem({ user_id: text, type: 'task_update', payload: {} }, 'body').ok).toBe(expected);
        expect(decodePublishItem({ user_id: 'a', type: 'task_update', payload: {}, id: text }, 'body').ok).toBe(expected);
        expect(validate({ notification_ids: [text] })).toBe(expected);
      }),
      { numRuns: 5000 },
    );
  });

  it('is the same schema for user ids, idempotency keys and notification ids', () => {
    expect(MAX_IDENTIFIER_LENGTH).toBe(255);
    const rule = ({ type, minLength, maxLength, pattern }: { type?: unknown; minLength?: unknown; maxLength?: unknown; pattern?: unknown }) => ({
      type,
      minLength,
      maxLength,
      pattern,
    });
    expect(rule(IdempotencyKey)).toEqual(rule(UserId));
    expect(rule(NotificationId)).toEqual(rule(UserId));
    expect(rule(UserId)).toEqual({ type: 'string', minLength: 1, maxLength: 255, pattern: expect.any(String) });
  });
});
