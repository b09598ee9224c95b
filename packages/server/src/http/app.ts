import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { countClientErrors } from './client-errors.js';
import { handleError } from './error-handler.js';
import { inboxPage, type InboxPageOptions } from './inbox-page.js';
import { openApiOptions } from './openapi.js';
import { opsRoutes, type OpsRoutesOptions } from './ops-routes.js';
import { publishRoutes, type PublishRoutesOptions } from './publish-routes.js';
import { observeRequestDurations } from './request-metrics.js';
import { userRoutes, type UserRoutesOptions } from './user-routes.js';
import { createValidatorCompiler } from './validator-compiler.js';

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
    http: {
      // A client trickling its headers (slowloris, upgrades included) holds a socket and parser state: it gets
      // this long in all. Node checks the deadline on an interval, so that interval is a fraction of it.
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: Math.max(options.headersTimeoutMs, 120_000),
      connectionsCheckingInterval: Math.max(100, Math.min(5000, Math.floor(options.headersTimeoutMs / 4))),
    },
  });
  countClientErrors(app.server, options.ops.metrics);
  observeRequestDurations(app, options.ops.metrics);
  app.setValidatorCompiler(createValidatorCompiler());
  app.setErrorHandler(handleError);
  // One hook for every response, publish included:
  // - every answer is only what its Content-Type says: a browser never sniffs a JSON error or a metrics text into
  //   HTML or script (the inbox page adds its own policy, inbox-page.ts);
  // - close() ends the keep-alive connections that are idle when it begins, but one whose request is still running
  //   goes back to keep-alive after its response and holds close() open for the whole keep-alive timeout (72 s),
  //   past a supervisor's grace period. While stopping, every response ends its connection instead.
  app.addHook('onSend', (_request, reply, payload, done) => {
    void reply.header('x-content-type-options', 'nosniff');
    if (!options.ops.accepting()) void reply.header('connection', 'close');
    done(null, payload);
  });
  await app.register(cors, {
    // With no list configured the API answers any origin; it needs a bearer token anyway, never cookies.
    origin: options.allowedOrigins.length > 0 ? options.allowedOrigins : true,
  });
  await app.register(swagger, openApiOptions());
  await app.register(opsRoutes, options.ops);
  await app.register(userRoutes, options.user);
  await app.register(publishRoutes, options.publish);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(inboxPage, options.inbox ?? {});
  return app;
}
