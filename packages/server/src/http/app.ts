import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import { ErrorCode } from '@herald/protocol';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { answerClientError, countClientErrors } from './client-errors.js';
import { handleError, sendError } from './error-handler.js';
import { RETRY_AFTER_SECONDS } from '../error-response.js';
import { acceptJsonBodies } from './json-bodies.js';
import { socketPathRoute } from './socket-path.js';
import { answerUnknownRoutes } from './unknown-routes.js';
import { inboxPage, type InboxPageOptions } from './inbox-page.js';
import { openApiOptions } from './openapi.js';
import { opsRoutes, type OpsRoutesOptions } from './ops-routes.js';
import { publishRoutes, type PublishRoutesOptions } from './publish-routes.js';
import { observeRequestDurations } from './request-metrics.js';
import { userRoutes, type UserRoutesOptions } from './user-routes.js';
import { createValidatorCompiler } from './validator-compiler.js';
import { MAX_IDENTIFIER_LENGTH } from '../identifiers.js';

export interface HttpAppOptions {
  logger: Logger;
  maxBodyBytes: number;
  headersTimeoutMs: number;
  allowedOrigins: string[];
  user: UserRoutesOptions;
  publish: PublishRoutesOptions;
  ops: OpsRoutesOptions;
  /** Where the built inbox page is; see inbox-page.ts for the default. */
  inbox?: InboxPageOptions;
}

/** The REST side of Herald; the WebSocket side is attached to the same server's upgrade event. */
export async function buildHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // Each request would be two log lines on a busy publish path; failures are logged where handled.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.maxBodyBytes,
    routerOptions: {
      // A path parameter is an identifier (a user id in DELETE /users/{user_id}, a notification id): up to 255 code
      // points, each up to 12 characters percent-encoded. The router's default (100) refused long valid ids.
      maxParamLength: MAX_IDENTIFIER_LENGTH * 12,
    },
    http: {
      // A client trickling its headers (slowloris, upgrades included) holds a socket and parser state: it gets
      // this long in all. Node checks the deadline on an interval, so that interval is a fraction of it.
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: Math.max(options.headersTimeoutMs, 120_000),
      connectionsCheckingInterval: Math.max(100, Math.min(5000, Math.floor(options.headersTimeoutMs / 4))),
    },
    // Every answer Fastify or Node's parser would give in a shape of their own is given in Herald's: a malformed
    // request line or header, a target that is not a valid URL, and a request that arrives while closing.
    clientErrorHandler: answerClientError,
    frameworkErrors: handleError,
    return503OnClosing: false,
  });
  countClientErrors(app.server, options.ops.metrics);
  observeRequestDurations(app, options.ops.metrics);
  app.setValidatorCompiler(createValidatorCompiler());
  app.setErrorHandler(handleError);
  answerUnknownRoutes(app);
  acceptJsonBodies(app);
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!closing) return;
    sendError(request, reply, ErrorCode.Unavailable, 'Herald is shutting down; retry later');
    return reply;
  });
  // One hook for every response, publish included:
  // - every answer is only what its Content-Type says: a browser never sniffs a JSON error or a metrics text into
  //   HTML or script (the inbox page adds its own policy, inbox-page.ts);
  // - close() ends the keep-alive connections that are idle when it begins, but one whose request is still running
  //   goes back to keep-alive after its response and holds close() open for the whole keep-alive timeout (72 s),
  //   past a supervisor's grace period. While stopping, every response ends its connection instead.
  app.addHook('onSend', (_request, reply, payload, done) => {
    void reply.header('x-content-type-options', 'nosniff');
    if (!options.ops.accepting()) void reply.header('connection', 'close');
    // Every 503 (an error, or /readyz while unready) says when to ask again.
    if (reply.statusCode === 503 && !reply.hasHeader('retry-after')) void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    done(null, payload);
  });
  await app.register(cors, {
    // With no list configured the API answers any origin; it needs a bearer token anyway, never cookies.
    origin: options.allowedOrigins.length > 0 ? options.allowedOrigins : true,
    // A plain OPTIONS (no Origin, no Access-Control-Request-Method) is not a malformed preflight to refuse with a
    // text/plain 400: it is answered 204 like a preflight. Browsers always send both headers on a real one.
    strictPreflight: false,
  });
  await app.register(swagger, openApiOptions());
  await app.register(opsRoutes, options.ops);
  await app.register(userRoutes, options.user);
  await app.register(publishRoutes, options.publish);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  socketPathRoute(app);
  await app.register(inboxPage, options.inbox ?? {});
  return app;
}
