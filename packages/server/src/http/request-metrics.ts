import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.js';

/** The route label of a request no route matched: one value for every such path, so a scan adds no series. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Times every HTTP response into herald_http_request_duration_seconds. The route label is the route's pattern
 * (`/notifications`), never the requested path, and the method is one Node's parser accepted (a fixed list), so
 * the number of series stays bounded whatever clients send.
 */
export function observeRequestDurations(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? UNMATCHED_ROUTE, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
}
