import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { bearerToken, type TokenVerifier } from '../auth/token-verifier.js';
import type { Delivery } from '../deliver.js';
import { badRequest as refused } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/store.js';
import { fullNotification } from '@herald/protocol';
import { inboxChangeRoutes } from './inbox-change-routes.js';
import {
  Counts,
  ErrorBody,
  ListQuery,
  MarkAllReadResponse,
  NoBody,
  NoQuery,
  NotificationPage,
  UnreadCount,
} from './schemas.js';

declare module 'fastify' {
  interface FastifyRequest {
    userId: string;
  }
}

export interface UserRoutesOptions {
  store: Store;
  delivery: Delivery;
  verifyToken: TokenVerifier;
  metrics: Metrics;
}

const security = [{ userToken: [] }];
const tags = ['inbox'];
const unauthorized = { 401: ErrorBody };
const badRequest = { 400: ErrorBody };
/** The database did not answer: the request changed nothing and may be retried. */
const unavailable = { 503: ErrorBody };
/** A POST's body is JSON or absent; any other Content-Type is refused before it is read. */
const unsupportedMediaType = { 415: ErrorBody };

/**
 * The signed-in user's inbox. Every query is scoped by the token's user, so no id or cursor reaches another's;
 * a parameter or body field a route does not define is a 400, so that no request can look as if it chose a user.
 */
export const userRoutes: FastifyPluginAsync<UserRoutesOptions> = async (app, { store, delivery, verifyToken, metrics }) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.decorateRequest('userId', '');
  api.addHook('onRequest', async (request) => {
    try {
      request.userId = (await verifyToken(bearerToken(request.headers.authorization))).userId;
    } catch (error) {
      metrics.authFailures.inc();
      throw error;
    }
  });

  api.get(
    '/notifications',
    {
      schema: {
        operationId: 'listNotifications',
        tags,
        summary: "The user's notifications, newest first",
        security,
        querystring: ListQuery,
        response: { 200: NotificationPage, ...badRequest, ...unauthorized, ...unavailable },
      },
    },
    async (request) => {
      const { status, category, archived, limit, cursor } = request.query;
      const page = await store.listNotifications(request.userId, {
        status,
        category,
        archived,
        limit,
        beforeSeq: cursor === undefined ? undefined : cursorSeq(cursor),
      });
      return { items: page.items.map(fullNotification), next_cursor: page.nextBeforeSeq === null ? null : String(page.nextBeforeSeq) };
    },
  );

  api.get(
    '/notifications/unread-count',
    {
      schema: {
        operationId: 'getUnreadCount',
        tags,
        summary: 'How many notifications are unread',
        security,
        querystring: NoQuery,
        response: { 200: UnreadCount, ...badRequest, ...unauthorized, ...unavailable },
      },
    },
    async (request) => {
      const { count, headSeq } = await store.unreadCount(request.userId);
      return { count, seq: headSeq };
    },
  );

  api.get(
    '/notifications/counts',
    {
      schema: {
        operationId: 'getCounts',
        tags,
        summary: 'Unread and unseen counts, in total and per category',
        security,
        querystring: NoQuery,
        response: { 200: Counts, ...badRequest, ...unauthorized, ...unavailable },
      },
    },
    async (request) => {
      const { unread, unseen, categories, headSeq } = await store.counts(request.userId);
      return { unread, unseen, categories, seq: headSeq };
    },
  );

  await api.register(inboxChangeRoutes, { delivery });

  api.post(
    '/notifications/mark-all-read',
    {
      schema: {
        operationId: 'markAllRead',
        tags,
        summary: 'Marks every notification read and tells every tab (all_read)',
        security,
        querystring: NoQuery,
        body: NoBody,
        response: { 200: MarkAllReadResponse, ...badRequest, ...unauthorized, ...unavailable, ...unsupportedMediaType },
      },
    },
    async (request) => ({ changed: await delivery.markAllRead(request.userId) }),
  );
};

/**
 * The seq a cursor names (its digits were checked by ListQuery). Past MAX_SAFE_INTEGER a number is no longer the
 * seq that was written, so such a cursor is refused like a malformed one, the same bound as `since`.
 */
function cursorSeq(cursor: string): number {
  const seq = Number(cursor);
  if (!Number.isSafeInteger(seq)) throw refused(`querystring.cursor must be at most ${Number.MAX_SAFE_INTEGER}`);
  return seq;
}
