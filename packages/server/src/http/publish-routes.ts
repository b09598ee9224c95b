import type { FastifyPluginAsync, FastifySchemaCompiler } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { apiKeyMatches } from '../auth/api-key.js';
import { bearerToken } from '../auth/token-verifier.js';
import type { Delivery } from '../deliver.js';
import { unauthorized, type HeraldError } from '../errors.js';
import type { Hub } from '../hub/hub.js';
import type { Metrics } from '../metrics.js';
import { acceptBroadcast, acceptPublish } from '../ingest/decode-publish.js';
import type { Result } from '../result.js';
import { BroadcastBody, BroadcastResponse, EraseParams, EraseResponse, ErrorBody, NoQuery, PublishBody, PublishResponse } from './schemas.js';

export interface PublishRoutesOptions {
  apiKey: string;
  delivery: Delivery;
  hub: Hub;
  metrics: Metrics;
  /** HERALD_MAX_BUFFERED_BYTES: an item or broadcast whose frame would be larger is refused with 413. */
  maxFrameBytes: number;
}

const security = [{ apiKey: [] }];
const tags = ['publish'];
/** 415: the body is not JSON; 503: the database did not answer, nothing was stored and the request may be retried. */
const errors = { 400: ErrorBody, 401: ErrorBody, 413: ErrorBody, 415: ErrorBody, 503: ErrorBody };

/**
 * For the two producer bodies, the route's schema only documents them in /openapi.json: the decoder in ingest/
 * is their one check, as for Kafka and the library, so each item is checked once and a failure is named by the
 * item and field (an Ajv error of a one-or-many union cannot say which side was meant).
 */
const checkedByDecoder: FastifySchemaCompiler<unknown> = () => () => true;

/** The accepted body, or the error that names what is wrong with it (400 for its shape, 413 for a frame's size). */
function acceptedOrThrow<T>(accepted: Result<T, HeraldError>): T {
  if (accepted.ok) return accepted.value;
  throw accepted.error;
}

/** Server-to-server ingest: the application's services hand events to Herald here. */
export const publishRoutes: FastifyPluginAsync<PublishRoutesOptions> = async (app, { apiKey, delivery, hub, metrics, maxFrameBytes }) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.addHook('onRequest', async (request) => {
    if (!apiKeyMatches(apiKey, bearerToken(request.headers.authorization))) {
      metrics.authFailures.inc();
      throw unauthorized('A valid HERALD_API_KEY is required as Bearer token');
    }
  });

  api.post(
    '/publish',
    {
      validatorCompiler: checkedByDecoder,
      schema: {
        operationId: 'publish',
        tags,
        summary: "Stores events in users' streams and pushes them to every tab; `id` makes a retry harmless",
        security,
        body: PublishBody,
        response: { 200: PublishResponse, ...errors },
      },
    },
    async (request) => {
      const inputs = acceptedOrThrow(acceptPublish(request.body as unknown, 'body', maxFrameBytes));
      const stored = await delivery.publish(inputs);
      return {
        accepted: inputs.length,
        stored: stored.length,
        events: stored.map((event) => ({
          user_id: event.userId,
          seq: event.seq,
          type: event.type,
          notification_id: event.type === 'new_notification' ? String(event.payload['id']) : undefined,
        })),
      };
    },
  );

  api.post(
    '/broadcast',
    {
      validatorCompiler: checkedByDecoder,
      schema: {
        operationId: 'broadcast',
        tags,
        summary: 'Pushes one frame to every connected user now (not stored, no seq, not replayed)',
        security,
        body: BroadcastBody,
        response: { 200: BroadcastResponse, ...errors },
      },
    },
    async (request) => {
      const { type, payload } = acceptedOrThrow(acceptBroadcast(request.body as unknown, 'body', maxFrameBytes));
      delivery.broadcast(type, payload);
      return { connections: hub.connectionCount };
    },
  );

  api.delete(
    '/users/:user_id',
    {
      schema: {
        operationId: 'eraseUser',
        tags,
        summary: "Erases everything stored for a user (notifications, stream, idempotency keys) and closes the user's connections (4004)",
        security,
        params: EraseParams,
        querystring: NoQuery,
        response: { 200: EraseResponse, 400: ErrorBody, 401: ErrorBody, 503: ErrorBody },
      },
    },
    async (request) => ({ erased: await delivery.eraseUser(request.params.user_id) }),
  );
};
