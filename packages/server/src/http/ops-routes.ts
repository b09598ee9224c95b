import { withTimeout } from '../timing.js';
import type { FastifyPluginAsync } from 'fastify';
import type { RedisState } from '../cluster/redis-link.js';
import type { IngestSource } from '../ingest/source.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/store.js';

export interface OpsRoutesOptions {
  store: Store;
  metrics: Metrics;
  /** False once shutdown has begun, so a load balancer stops sending new clients. */
  accepting: () => boolean;
  /** Ingest sources besides HTTP; their state is reported, and does not make the node unready (HTTP still serves). */
  sources: readonly IngestSource[];
  /**
   * Cluster mode: the state of the node's Redis link. Reported, and does not make the node unready: without Redis
   * a node still serves its own connections, and taking every node out at once would serve nobody.
   */
  redis?: () => RedisState;
}

/** Probes give up after a second or two; an unreachable database must answer 503 before that, not hang. */
const READY_TIMEOUT_MS = 1_000;

/** Liveness, readiness and metrics: for orchestrators and Prometheus, outside the OpenAPI document. */
export const opsRoutes: FastifyPluginAsync<OpsRoutesOptions> = async (app, { store, metrics, accepting, sources, redis }) => {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const ingest = {
      ...(redis && { redis: redis() }),
      ...Object.fromEntries(sources.map((source) => [source.name, source.state()])),
    };
    if (!accepting()) return reply.code(503).send({ status: 'draining', ...ingest });
    try {
      await withTimeout(store.ping(), READY_TIMEOUT_MS);
      return { status: 'ready', database: 'ok', ...ingest };
    } catch {
      return reply.code(503).send({ status: 'unavailable', database: 'unreachable', ...ingest });
    }
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
};
