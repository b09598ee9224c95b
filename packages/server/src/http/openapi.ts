import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { HERALD_VERSION } from '../version.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const SCHEMAS = '#/components/schemas/';

/**
 * /openapi.json: @fastify/swagger writes it from the routes' schemas; this adds what a reader and a linter expect
 * around them (version, licence, servers, tags) and moves the shared schemas under components.
 */
export function openApiOptions(): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Herald',
        description: 'Real-time notification gateway: inbox, publish and operations API',
        version: HERALD_VERSION,
        license: { name: 'MIT', identifier: 'MIT' },
      },
      // Herald is self-hosted: the document describes the server that serves it, wherever it listens.
      servers: [{ url: '/', description: 'The Herald that serves this document' }],
      tags: [
        { name: 'inbox', description: "The signed-in user's notifications (a user's JWT)" },
        { name: 'publish', description: 'Server-to-server ingest (HERALD_API_KEY)' },
        { name: 'operations', description: 'Liveness, readiness and metrics for orchestrators and Prometheus (no token)' },
      ],
      components: {
        securitySchemes: {
          userToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: "A user's JWT; sub is the user id" },
          apiKey: { type: 'http', scheme: 'bearer', description: 'HERALD_API_KEY, for server-to-server publish' },
        },
      },
    },
    transformObject: (document) => {
      if (!('openapiObject' in document)) throw new Error('Herald writes an OpenAPI 3 document, not Swagger 2');
      // The document is plain JSON that @fastify/swagger built; its typed form is what it returns.
      const openapi = withResponseDescriptions(withOptionalInputs(document.openapiObject as unknown as JsonObject));
      return hoistSharedSchemas(openapi) as typeof document.openapiObject;
    },
  };
}

/** What each status means on every route; @fastify/swagger would call each a "Default Response". */
const RESPONSE_DESCRIPTIONS: Record<string, string> = {
  '200': 'Done',
  '400': 'The request is malformed (bad_request); the message names the field',
  '401': 'No token, or one Herald refuses (error unauthorized); the message says why',
  '404': 'No such notification, or no such action of it, in this inbox (not_found)',
  '409': 'Another action was taken on the notification already (conflict); the message names it',
  '413': 'The body, or an item whose frame would exceed HERALD_MAX_BUFFERED_BYTES, is too large (payload_too_large)',
  '415': 'The body is not application/json (unsupported_media_type)',
  '503': 'The database cannot be reached right now, or Herald is shutting down (unavailable): retry with backoff',
};

/** Replaces @fastify/swagger's placeholder description of each response with what the status means here. */
export function withResponseDescriptions(document: JsonObject): JsonObject {
  const paths = (document['paths'] ?? {}) as Record<string, Record<string, JsonObject>>;
  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item)) {
      const responses = isObject(operation) ? operation['responses'] : undefined;
      if (!isObject(responses)) continue;
      for (const [status, response] of Object.entries(responses)) {
        const described = RESPONSE_DESCRIPTIONS[status];
        if (isObject(response) && response['description'] === 'Default Response' && described) response['description'] = described;
      }
    }
  }
  return document;
}

/**
 * What a client may leave out is not required in the document. @fastify/swagger marks a query parameter required
 * when its schema is, but one with a default (`limit`, `status`) is filled in when absent; and a body whose schema
 * admits null (mark-all-read's) may be absent altogether.
 */
export function withOptionalInputs(document: JsonObject): JsonObject {
  const paths = (document['paths'] ?? {}) as Record<string, Record<string, JsonObject>>;
  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item)) {
      if (!isObject(operation)) continue;
      for (const parameter of Array.isArray(operation['parameters']) ? operation['parameters'] : []) {
        if (isObject(parameter) && isObject(parameter['schema']) && 'default' in parameter['schema']) parameter['required'] = false;
      }
      const body = operation['requestBody'];
      if (isObject(body) && isObject(body['content']) && Object.values(body['content']).some((media) => isObject(media) && admitsNull(media['schema']))) {
        body['required'] = false;
      }
    }
  }
  return document;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function admitsNull(schema: Json | undefined): boolean {
  if (!isObject(schema)) return false;
  if (schema['type'] === 'null' || (Array.isArray(schema['type']) && schema['type'].includes('null'))) return true;
  const variants = schema['anyOf'] ?? schema['oneOf'];
  return Array.isArray(variants) && variants.some(admitsNull);
}

/**
 * Every schema that carries a `title` (schemas.ts gives one to each shared schema) becomes
 * components.schemas[title], and each place it appeared refers to it instead. Two different schemas under one
 * title would make one of them wrong in the document, so that stops the document being built.
 */
export function hoistSharedSchemas(document: JsonObject): JsonObject {
  const shared: Record<string, Json> = {};
  const seen = new Map<string, string>();
  const hoist = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(hoist);
    if (node === null || typeof node !== 'object') return node;
    const copy: JsonObject = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, hoist(value)]));
    const title = copy['title'];
    if (typeof title !== 'string') return copy;
    const text = JSON.stringify(copy);
    const earlier = seen.get(title);
    if (earlier !== undefined && earlier !== text) throw new Error(`two different schemas are titled ${title} in the OpenAPI document`);
    seen.set(title, text);
    shared[title] = copy;
    return { $ref: `${SCHEMAS}${title}` };
  };
  // Only the operations hold schemas; `info` has a title of its own.
  const paths = hoist(document['paths'] ?? {});
  const existing = (document['components'] ?? {}) as JsonObject;
  const schemas = { ...((existing['schemas'] ?? {}) as JsonObject), ...sortedByName(shared) };
  return { ...document, paths, components: { ...existing, schemas } };
}

function sortedByName(entries: Record<string, Json>): JsonObject {
  return Object.fromEntries(Object.entries(entries).sort(([a], [b]) => a.localeCompare(b)));
}
