import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { HERALD_VERSION } from './version.js';

/**
 * The values each labelled counter is known to take. Every one is exported at 0 from the start, so that a rate or
 * an alert on a reason that has not happened yet reads 0 rather than no data (Prometheus's own advice).
 */
export const DROP_REASONS = ['slow_consumer', 'duplicate', 'closed', 'idle', 'token_expired', 'frame_rate'] as const;
export const REFUSAL_REASONS = ['bad_request', 'not_found', 'origin', 'handshakes', 'draining', 'limit'] as const;
/** The parser errors a hostile or broken client most often causes, and CONNECT; others appear when they happen. */
export const CLIENT_ERROR_CODES = [
  'HPE_INVALID_METHOD',
  'HPE_INVALID_URL',
  'HPE_HEADER_OVERFLOW',
  'HPE_INVALID_HEADER_TOKEN',
  'HPE_INVALID_CONTENT_LENGTH',
  'ERR_HTTP_REQUEST_TIMEOUT',
  'CONNECT',
] as const;
export const KAFKA_OUTCOMES = ['stored', 'duplicate', 'dead_lettered'] as const;
export const REDIS_DIRECTIONS = ['published', 'received'] as const;

/** prom-client's default gauges whose names end in _total, which Prometheus keeps for counters. */
const UNLINTABLE_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** Seconds: from a few milliseconds on loopback to the multi-second tail of a stalled database or a GC pause. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Herald's Prometheus metrics, in a registry of their own so that several gateways can share a process. */
export class Metrics {
  readonly registry = new Registry();
  readonly connections: Gauge;
  readonly users: Gauge;
  readonly clusterNodes: Gauge;
  /** Upgrades waiting for a handshake slot; the socket server sets it. */
  readonly handshakesQueued: Gauge;
  readonly messagesIn = this.counter('herald_messages_in_total', 'Frames received from clients');
  readonly messagesOut = this.counter('herald_messages_out_total', 'Frames sent to clients');
  readonly eventsPublished = this.counter('herald_events_published_total', 'Events stored and handed to delivery');
  readonly duplicates = this.counter('herald_publish_duplicates_total', 'Published events skipped as already stored');
  readonly drops: Counter<'reason'>;
  readonly authFailures = this.counter('herald_auth_failures_total', 'Rejected tokens on WebSocket and REST');
  readonly refusedConnections: Counter<'reason'>;
  readonly httpClientErrors: Counter<'code'>;
  readonly kafkaRecords: Counter<'outcome'>;
  readonly kafkaRetries = this.counter('herald_kafka_retries_total', 'Kafka batches retried after a store or dead-letter failure');
  readonly kafkaLag: Gauge<'partition'>;
  /** 1 once the Kafka consumer stopped because the cluster kept refusing a batch's dead letters (see /readyz). */
  readonly kafkaStopped = new Gauge({
    name: 'herald_kafka_consumer_stopped',
    help: 'Whether the Kafka consumer stopped for good (1) because dead-lettering kept failing; it restarts with the node',
    registers: [this.registry],
  });
  readonly eventsDelivered = this.counter(
    'herald_events_delivered_total',
    'Stream events written to sockets, one per tab (live and replayed)',
  );
  readonly redisMessages: Counter<'direction'>;
  readonly redisPublishFailures = this.counter(
    'herald_redis_publish_failures_total',
    'Events not published to Redis because it was unreachable (published again, or caught up by seq, once it is back)',
  );
  readonly resyncs = this.counter('herald_resyncs_total', 'Times every connection re-read the store after the Redis link came back');
  /** Publish-to-socket: see observeDeliveryLatency. */
  readonly deliveryLatency = new Histogram({
    name: 'herald_delivery_latency_seconds',
    help: "Seconds from an event's store time to its frame being written to the user's sockets on this node (live events; replays are not counted)",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'> = new Histogram({
    name: 'herald_http_request_duration_seconds',
    help: 'Seconds from an HTTP request to its response being sent, by method, route (its path pattern) and status code',
    labelNames: ['method', 'route', 'status_code'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  constructor(sources: { connections: () => number; users: () => number; clusterNodes?: () => number }) {
    this.connections = new Gauge({
      name: 'herald_connections',
      help: 'Open WebSocket connections',
      registers: [this.registry],
      collect() {
        this.set(sources.connections());
      },
    });
    this.users = new Gauge({
      name: 'herald_users',
      help: 'Users with at least one open connection',
      registers: [this.registry],
      collect() {
        this.set(sources.users());
      },
    });
    this.handshakesQueued = new Gauge({
      name: 'herald_handshakes_queued',
      help: 'WebSocket upgrades waiting for a handshake slot (HERALD_MAX_HANDSHAKES in flight)',
      registers: [this.registry],
    });
    this.clusterNodes = new Gauge({
      name: 'herald_cluster_nodes',
      help: 'Gateway nodes in the cluster, this one included, as its presence sees them (1 without Redis)',
      registers: [this.registry],
      collect() {
        this.set(sources.clusterNodes?.() ?? 1);
      },
    });
    this.drops = new Counter({
      name: 'herald_drops_total',
      help: 'Frames not sent and connections closed by Herald, by reason (slow_consumer, duplicate, closed, idle, token_expired, frame_rate)',
      labelNames: ['reason'],
      registers: [this.registry],
    });
    zeroed(this.drops, 'reason', DROP_REASONS);
    this.refusedConnections = new Counter({
      name: 'herald_refused_connections_total',
      help: 'WebSocket connections refused, by reason (bad_request, not_found, origin, handshakes, draining, limit)',
      labelNames: ['reason'],
      registers: [this.registry],
    });
    zeroed(this.refusedConnections, 'reason', REFUSAL_REASONS);
    this.httpClientErrors = new Counter({
      name: 'herald_http_client_errors_total',
      help: "HTTP requests refused before any route saw them, by code (Node's parser: HPE_*, ERR_HTTP_REQUEST_TIMEOUT; CONNECT)",
      labelNames: ['code'],
      registers: [this.registry],
    });
    zeroed(this.httpClientErrors, 'code', CLIENT_ERROR_CODES);
    this.kafkaRecords = new Counter({
      name: 'herald_kafka_records_total',
      help: 'Kafka records taken, by outcome (stored, duplicate, dead_lettered)',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    zeroed(this.kafkaRecords, 'outcome', KAFKA_OUTCOMES);
    this.kafkaLag = new Gauge({
      name: 'herald_kafka_consumer_lag',
      help: 'Records behind the end of each assigned partition of the Kafka topic',
      labelNames: ['partition'],
      registers: [this.registry],
    });
    this.redisMessages = new Counter({
      name: 'herald_redis_messages_total',
      help: 'Messages between nodes over Redis pub/sub, by direction (published, received)',
      labelNames: ['direction'],
      registers: [this.registry],
    });
    zeroed(this.redisMessages, 'direction', REDIS_DIRECTIONS);
    new Gauge({
      name: 'herald_build_info',
      help: "Always 1; its labels are Herald's version and the Node.js version it runs on",
      labelNames: ['version', 'nodejs_version'],
      registers: [this.registry],
    }).set({ version: HERALD_VERSION, nodejs_version: process.versions.node }, 1);
    // Without a prefix: process_* and nodejs_* are the names every Node.js dashboard and alert expects.
    collectDefaultMetrics({ register: this.registry });
    // Except three gauges named like counters, which promtool refuses; each is the sum of the labelled gauge of
    // the same name without _total (sum(nodejs_active_handles)), which stays.
    for (const name of UNLINTABLE_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
  }

  /**
   * One live event written to this node's tabs: the time since the store took it. Its createdAt comes from the
   * node that stored it, so across nodes the figure includes their clock difference (keep the nodes on NTP).
   */
  observeDeliveryLatency(createdAt: string): void {
    const elapsedMs = Date.now() - Date.parse(createdAt);
    // A clock that stepped back since the store took the event would give a negative time.
    if (Number.isFinite(elapsedMs)) this.deliveryLatency.observe(Math.max(0, elapsedMs) / 1000);
  }

  private counter(name: string, help: string): Counter {
    return new Counter({ name, help, registers: [this.registry] });
  }
}

/** Exports the counter at 0 for each known value of its label. */
function zeroed<L extends string>(counter: Counter<L>, label: L, values: readonly string[]): void {
  for (const value of values) counter.inc({ [label]: value } as Record<L, string>, 0);
}
