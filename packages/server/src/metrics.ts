import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

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
    this.refusedConnections = new Counter({
      name: 'herald_refused_connections_total',
      help: 'WebSocket connections refused, by reason (bad_request, not_found, origin, handshakes, draining, limit)',
      labelNames: ['reason'],
      registers: [this.registry],
    });
    this.httpClientErrors = new Counter({
      name: 'herald_http_client_errors_total',
      help: "HTTP requests refused before any route saw them, by code (Node's parser: HPE_*, ERR_HTTP_REQUEST_TIMEOUT; CONNECT)",
      labelNames: ['code'],
      registers: [this.registry],
    });
    this.kafkaRecords = new Counter({
      name: 'herald_kafka_records_total',
      help: 'Kafka records taken, by outcome (stored, duplicate, dead_lettered)',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
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
    collectDefaultMetrics({ register: this.registry, prefix: 'herald_' });
  }

  private counter(name: string, help: string): Counter {
    return new Counter({ name, help, registers: [this.registry] });
  }
}
