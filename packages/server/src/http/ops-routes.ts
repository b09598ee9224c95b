import { withTimeout } from '../timing.js';
import { HealthStatus, MetricsText, ReadyStatus } from './schemas.js';
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
  /** Ingest sources besides HTTP; their state is reported, and only one that failed for good makes the node unready. */
  sources: readonly IngestSource[];
  /**
   * Cluster mode: the state of the node's Redis link. Reported, and does not make the node unready: without Redis
   * a node still serves its own connections, and taking every node out at once would serve nobody.
   */
  redis?: () => RedisState;
}

/** Probes give up after a second or two; an unreachable database must answer 503 before that, not hang. */
const READY_TIMEOUT_MS = 1_000;

/** For orchestrators and Prometheus, open to anyone: the empty security list says so in the document. */
const ops = { tags: ['operations'], security: [] };

const healthSchema = {
  ...ops,
  operationId: 'getHealth',
  summary: 'Liveness: 200 while the process runs (the database is not asked)',
  response: { 200: HealthStatus },
};

const readySchema = {
  ...ops,
  operationId: 'getReadiness',
  summary: 'Readiness: 200 when the database answers, 503 when it does not or while the node is shutting down',
  response: { 200: ReadyStatus, 503: ReadyStatus },
};

const metricsSchema = {
  ...ops,
  operationId: 'getMetrics',
  summary: "Herald's Prometheus metrics, with the process and Node.js runtime metrics",
  response: { 200: { description: 'The metrics', content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: MetricsText } } } },
};

/** Liveness, readiness and metrics: for orchestrators and Prometheus. */
export const opsRoutes: FastifyPluginAsync<OpsRoutesOptions> = async (app, { store, metrics, accepting, sources, redis }) => {
  app.get('/healthz', { schema: healthSchema }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: readySchema }, async (_request, reply) => {
    const ingest = {
      ...(redis && { redis: redis() }),
      ...Object.fromEntries(sources.map((source) => [source.name, source.state()])),
      ...Object.fromEntries(sources.flatMap((source) => (source.reason() ? [[`${source.name}_reason`, source.reason()]] : []))),
    };
    if (!accepting()) return reply.code(503).send({ status: 'draining', ...ingest });
    try {
      await withTimeout(store.ping(), READY_TIMEOUT_MS);
    } catch {
      return reply.code(503).send({ status: 'unavailable', database: 'unreachable', ...ingest });
    }
    // A source that stopped for good is a node that needs its operator: unready, so that it is seen.
    if (sources.some((source) => source.state() === 'failed')) return reply.code(503).send({ status: 'unavailable', database: 'ok', ...ingest });
    return { status: 'ready', database: 'ok', ...ingest };
  });

  app.get('/metrics', { schema: metricsSchema }, async (_request, reply) => {
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
};
