import { PUBLISHABLE_TYPES } from '@herald/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createValidatorCompiler } from '../../src/http/validator-compiler.js';
import { BroadcastBody, decodeBroadcast, decodePublishBatch, PublishBody } from '../../src/ingest/decode-publish.js';
import { describeSchemaError } from '../../src/schema-errors.js';

/**
 * The publish and broadcast routes document their bodies with these schemas in /openapi.json, and the decoders
 * are what checks them. Here both schemas are compiled as Fastify compiles a JSON body (Ajv, no coercion): the
 * document's verdict and the decoder's must be the same for any input, and a broadcast refusal must read as the
 * route's Ajv check used to word it.
 */
const compile = createValidatorCompiler();
const asDocumented = (schema: object) =>
  compile({ schema, method: 'POST', url: '/', httpPart: 'body' }) as ((value: unknown) => boolean) & { errors?: unknown[] | null };
const publishAsDocumented = asDocumented(PublishBody);
const broadcastAsDocumented = asDocumented(BroadcastBody);

const field = fc.oneof(
  fc.constantFrom(...PUBLISHABLE_TYPES, 'all_read', 'bogus', '', 'u'.repeat(255), 'u'.repeat(256)),
  fc.string({ maxLength: 4 }),
  fc.jsonValue({ maxDepth: 2 }),
);
const payload = fc.oneof(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })), fc.jsonValue({ maxDepth: 2 }));
/** Objects near a publish item or a broadcast: each key present or not, right or wrong, in any order. */
const itemLike = fc
  .record({ user_id: field, type: field, payload, id: field, extra: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: [] })
  .chain((value) =>
    fc.shuffledSubarray(Object.keys(value)).map((keys) => Object.fromEntries(keys.map((key) => [key, (value as Record<string, unknown>)[key]]))),
  );
const broadcastLike = fc
  .record({ type: field, payload, extra: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: [] })
  .chain((value) =>
    fc.shuffledSubarray(Object.keys(value)).map((keys) => Object.fromEntries(keys.map((key) => [key, (value as Record<string, unknown>)[key]]))),
  );
/** What went over the wire: JSON, so no undefined and no -0. */
const asSent = (value: unknown): unknown => JSON.parse(JSON.stringify(value) ?? 'null');

describe('property: the publish and broadcast decoders and the documented schemas', () => {
  it('a publish body is taken by the decoder exactly when the documented schema takes it', () => {
    fc.assert(
      fc.property(fc.oneof(itemLike, fc.array(itemLike, { maxLength: 4 }), fc.constant([]), fc.jsonValue({ maxDepth: 2 })), (raw) => {
        const body = asSent(raw);
        const decoded = decodePublishBatch(body, 'body');
        expect(decoded.ok).toBe(publishAsDocumented(body));
        if (decoded.ok) expect(decoded.value).toEqual(Array.isArray(body) ? body : [body]);
        else expect(decoded.error).toMatch(/^body/);
      }),
      { numRuns: 5000 },
    );
  });

  it('a broadcast is taken exactly when the documented schema takes it, and refused in the words of that check', () => {
    fc.assert(
      fc.property(fc.oneof(broadcastLike, fc.jsonValue({ maxDepth: 2 })), (raw) => {
        const body = asSent(raw);
        const decoded = decodeBroadcast(body, 'body');
        const taken = broadcastAsDocumented(body);
        expect(decoded.ok).toBe(taken);
        if (!decoded.ok) expect(decoded.error).toBe(describeSchemaError('body', broadcastAsDocumented.errors as never));
      }),
      { numRuns: 5000 },
    );
  });
});
