import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { apiKeyMatches } from '../auth/api-key.js';
import { bearerToken } from '../auth/token-verifier.js';
import type { Delivery } from '../deliver.js';
import { badRequest, unauthorized } from '../errors.js';
import type { Hub } from '../hub/hub.js';
import type { Metrics } from '../metrics.js';
import { nestedDeeperThan } from '../ingest/json-depth.js';
import { decodePublishItem, MAX_PAYLOAD_DEPTH, toAppendInput, type PublishItem } from '../ingest/publish-item.js';
import { BroadcastBody, BroadcastResponse, ErrorBody, MAX_PUBLISH_BATCH, PublishBody, PublishResponse } from './schemas.js';

export interface PublishRoutesOptions {
  apiKey: string;
  delivery: Delivery;
  hub: Hub;
  metrics: Metrics;
}

const security = [{ apiKey: [] }];

/** Server-to-server ingest: the application's services hand events to Herald here. */
export const publishRoutes: FastifyPluginAsync<PublishRoutesOptions> = async (app, { apiKey, delivery, hub, metrics }) => {
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
      // Validation errors of a one-or-many union are unreadable; the handler names the failing item and field.
      attachValidation: true,
      schema: {
        summary: "Stores events in users' streams and pushes them to every tab; `id` makes a retry harmless",
        security,
        body: PublishBody,
        response: { 200: PublishResponse, 400: ErrorBody, 401: ErrorBody, 413: ErrorBody },
      },
    },
    async (request) => {
      const items = checkPublishBody(request.body as unknown);
      const stored = await delivery.publish(items.map((item) => toAppendInput(item)));
      return {
        accepted: items.length,
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
      schema: {
        summary: 'Pushes one frame to every connected user now (not stored, no seq, not replayed)',
        security,
        body: BroadcastBody,
        response: { 200: BroadcastResponse, 400: ErrorBody, 401: ErrorBody },
      },
    },
    async (request) => {
      if (nestedDeeperThan(request.body.payload, MAX_PAYLOAD_DEPTH)) {
        throw badRequest(`body.payload is nested deeper than ${MAX_PAYLOAD_DEPTH} levels`);
      }
      delivery.broadcast(request.body.type, request.body.payload);
      return { connections: hub.connectionCount };
    },
  );
};

function checkPublishBody(body: unknown): PublishItem[] {
  if (Array.isArray(body)) {
    if (body.length === 0) throw badRequest('body must hold at least one item');
    if (body.length > MAX_PUBLISH_BATCH) throw badRequest(`body must hold at most ${MAX_PUBLISH_BATCH} items`);
    return body.map((item, index) => checkItem(item, `body[${index}]`));
  }
  return [checkItem(body, 'body')];
}

function checkItem(value: unknown, root: string): PublishItem {
  const decoded = decodePublishItem(value, root);
  if (decoded.ok) return decoded.item;
  throw badRequest(decoded.message);
}
