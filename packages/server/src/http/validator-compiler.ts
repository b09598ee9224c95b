import { Ajv, type Options } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

const common: Options = { useDefaults: true, removeAdditional: false, allErrors: false, addUsedSchema: false };

/**
 * Request validation with one Ajv per kind of input. A query string arrives as text, so `limit=20` must become
 * 20 there. A JSON body is checked exactly as sent: coercing it would turn `"user_id": 123` into "123",
 * `"notification_ids": "x"` into ["x"] and a body `"hello"` into ["hello"], and accept them.
 */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const forText = new Ajv({ ...common, coerceTypes: 'array' });
  const forJson = new Ajv({ ...common, coerceTypes: false });
  return ({ schema, httpPart }) => (httpPart === 'body' ? forJson : forText).compile(schema as object);
}
