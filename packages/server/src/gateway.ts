import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createTokenVerifier, type TokenVerifier } from './auth/token-verifier.js';
import type { Broker } from './broker/broker.js';
import { MemoryBroker } from './broker/memory-broker.js';
import type { Config } from './config.js';
import { Delivery } from './deliver.js';
import { badRequest } from './errors.js';
import { ClusterMembership } from './cluster/cluster-membership.js';
import { MemoryPresence } from './cluster/memory-presence.js';
import type { Presence } from './cluster/presence.js';
import type { Cluster } from './cluster/start-cluster.js';
import { buildHttpApp } from './http/app.js';
import { Hub } from './hub/hub.js';
import type { IngestSource } from './ingest/source.js';
import { decodePublishItem, toAppendInput, type PublishItem } from './ingest/publish-item.js';
import { createLogger } from './logger.js';
import { Metrics } from './metrics.js';
import { createStore } from './store/create-store.js';
import type { Store, StoredEvent } from './store/store.js';
import { SocketServer } from './transport/socket-server.js';
import { StreamSync } from './transport/stream-sync.js';

export interface HeraldOptions {
  config: Config;
  /** Defaults to the store that config.databaseUrl names. */
  store?: Store;
  /** Defaults to the in-memory broker of a single node. */
  broker?: Broker;
  logger?: Logger;
}

/** What a producer hands Herald: the same shape as one item of `POST /publish`. */
export type PublishInput = PublishItem;

/**
 * A Herald gateway: the composition root that builds store, broker, hub, delivery and transports, and closes
 * them in reverse. Use `listen()` to serve on its own, or `attach()` to add the WebSocket endpoint to your own
 * http.Server and call `sendToUser` / `broadcast` from your code.
 */
export class Herald {
  private closed: Promise<void> | undefined;

  private constructor(
    private readonly lifecycle: { accepting: boolean },
    readonly config: Config,
    readonly logger: Logger,
    private readonly store: Store,
    private readonly broker: Broker,
    private readonly presence: Presence,
    private readonly cluster: Cluster | undefined,
    private readonly delivery: Delivery,
    private readonly sockets: SocketServer,
    private readonly sources: readonly IngestSource[],
    /** The REST API as a Fastify instance (its routes are listed in /openapi.json). */
    readonly app: FastifyInstance,
  ) {}

  static async create(options: HeraldOptions): Promise<Herald> {
    const { config } = options;
    const logger = options.logger ?? createLogger(config.logLevel);
    const store =
      options.store ??
      createStore(config.databaseUrl, {
        sqliteSynchronous: config.sqliteSynchronous,
        onPoolError: (error) => logger.warn({ err: error }, 'a database connection failed; it will be replaced'),
      });
    await store.migrate();
    const verifyToken = createVerifier(config);
    // The gauges read the hub and the cluster only when scraped, after both exist.
    const metrics: Metrics = new Metrics({
      connections: () => hub.connectionCount,
      users: () => hub.userCount,
      clusterNodes: () => cluster?.presence.nodeCount() ?? 1,
    });
    let cluster: Cluster | undefined;
    try {
      if (config.cluster) {
        // Loaded only in cluster mode: the Redis client is a few hundred ms of start-up that a restart waits for.
        const { startCluster } = await import('./cluster/start-cluster.js');
        cluster = await startCluster(config.cluster, { metrics, logger });
      }
    } catch (error) {
      await store.close();
      throw error;
    }
    const broker = options.broker ?? cluster?.broker ?? new MemoryBroker();
    const presence = cluster?.presence ?? new MemoryPresence();
    const membership = new ClusterMembership({ broker, presence, maxConnectionsPerUser: config.maxConnectionsPerUser });
    const hub = new Hub(config, membership);
    const delivery = new Delivery(store, broker, metrics);
    const sync = new StreamSync({
      store,
      hub,
      metrics,
      admit: (connection) => membership.admit(connection),
      pingIntervalMs: config.pingIntervalMs,
      onError: (connection, error) => {
        // The client resumes from its last seq on reconnect, so closing loses nothing.
        logger.warn({ err: error, user: connection.userId }, 'catching up failed; closing the connection');
        connection.close(1011, 'Temporarily unavailable, reconnect');
      },
    });
    await broker.connect({
      event: (event) => sync.deliver(event),
      broadcast: (message) => sync.broadcast(message),
      resync: () => void sync.resyncAll(),
    });
    const sockets = new SocketServer({ hub, sync, verifyToken, metrics, logger, ...config });
    const lifecycle = { accepting: true };
    const sources: IngestSource[] = [];
    if (config.kafka) {
      // Loaded only when configured: the Kafka client costs about a second of start-up CPU in every process.
      const { KafkaSource } = await import('./ingest/kafka-source.js');
      sources.push(new KafkaSource({ config: config.kafka, delivery, metrics, logger: logger.child({ source: 'kafka' }) }));
    }
    const app = await buildHttpApp({
      logger,
      maxBodyBytes: config.maxBodyBytes,
      headersTimeoutMs: config.headersTimeoutMs,
      allowedOrigins: config.allowedOrigins,
      user: { store, delivery, verifyToken, metrics },
      publish: { apiKey: requireApiKey(config), delivery, hub, metrics },
      ops: { store, metrics, accepting: () => lifecycle.accepting, sources, redis: cluster && (() => cluster.link.state) },
    });
    const herald = new Herald(lifecycle, config, logger, store, broker, presence, cluster, delivery, sockets, sources, app);
    app.server.on('upgrade', sockets.handleUpgrade);
    for (const source of sources) source.start();
    return herald;
  }

  /** Serves REST and WebSocket on config.host:config.port (0 picks a free port). */
  async listen(): Promise<AddressInfo> {
    await this.app.listen({ host: this.config.host, port: this.config.port, backlog: LISTEN_BACKLOG });
    return this.app.server.address() as AddressInfo;
  }

  /** Adds Herald's WebSocket endpoint (/ws/notifications) to your own server. */
  attach(server: Server): void {
    server.on('upgrade', this.sockets.handleUpgrade);
  }

  /** Stores and delivers one event or a batch (one transaction); returns the events stored, duplicates left out. */
  async publish(input: PublishInput | readonly PublishInput[]): Promise<StoredEvent[]> {
    const items = Array.isArray(input) ? input : [input as PublishInput];
    // The library is an edge too: a caller in plain JavaScript gets the same checks as an HTTP producer.
    const checked = items.map((item, index) => {
      const decoded = decodePublishItem(item, Array.isArray(input) ? `input[${index}]` : 'input');
      if (!decoded.ok) throw badRequest(decoded.message);
      return decoded.item;
    });
    return this.delivery.publish(checked.map((item) => toAppendInput(item)));
  }

  /** Stores an event in the user's inbox and pushes it to every tab of the user. */
  async sendToUser(
    userId: string,
    type: PublishInput['type'],
    payload: Record<string, unknown>,
    options: { id?: string } = {},
  ): Promise<StoredEvent | undefined> {
    const [event] = await this.publish({ user_id: userId, type, payload, id: options.id });
    return event;
  }

  /** Pushes a frame to every connected user now; it is not stored and not replayed. */
  broadcast(type: PublishInput['type'], payload: Record<string, unknown>): void {
    this.delivery.broadcast(type, payload);
  }

  /**
   * Whether the user has a connection open on any node. This node's own connections count at once; in a cluster,
   * other nodes' are known within moments (at most a presence heartbeat, HERALD_PRESENCE_TTL_MS / 3).
   */
  isConnected(userId: string): boolean {
    return this.presence.isConnected(userId);
  }

  /** The users with a connection open on any node, as isConnected sees them. */
  connectedUsers(): string[] {
    return this.presence.connectedUsers();
  }

  /**
   * Graceful stop: refuse new connections, tell every client to reconnect elsewhere (1012) after its queued
   * frames, finish in-flight requests, then close the broker and the store.
   */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.lifecycle.accepting = false;
    // Ingest stops first: its batch in hand is stored (and delivered) or left uncommitted for the next consumer.
    await Promise.all(this.sources.map((source) => source.stop()));
    await this.sockets.drain(this.config.shutdownTimeoutMs);
    await this.app.close();
    await this.broker.close();
    await this.presence.close();
    await this.cluster?.close();
    await this.store.close();
  }
}

/**
 * Connections the kernel holds for Herald before it accepts them (capped by net.core.somaxconn). Node's default,
 * 511, overflows when thousands of tabs reconnect at once after a restart: the kernel drops their SYNs and each
 * such client waits a second or more for its own retransmission, while Herald sits idle.
 */
const LISTEN_BACKLOG = 4096;

function createVerifier(config: Config): TokenVerifier {
  return createTokenVerifier({
    jwtSecret: config.jwtSecret,
    jwksUrl: config.jwksUrl,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    clockToleranceS: config.jwtClockToleranceS,
    requireExp: config.jwtRequireExp,
    maxTtlS: config.jwtMaxTtlS,
  });
}

function requireApiKey(config: Config): string {
  if (!config.apiKey) throw new Error('HERALD_API_KEY is required to serve the publish API');
  return config.apiKey;
}
