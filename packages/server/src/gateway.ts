import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { CloseCode } from '@herald/protocol';
import { createTokenVerifier, type TokenVerifier } from './auth/token-verifier.js';
import type { Broker } from './broker/broker.js';
import { MemoryBroker } from './broker/memory-broker.js';
import type { Presence } from './cluster/presence.js';
import type { Cluster } from './cluster/start-cluster.js';
import type { Config } from './config.js';
import { Delivery } from './deliver.js';
import { Retention } from './store/retention.js';
import { Disposers } from './disposers.js';
import { closeFor, StartupError } from './errors.js';
import { buildHttpApp } from './http/app.js';
import { Admission } from './hub/admission.js';
import { Hub } from './hub/hub.js';
import { LocalPresence } from './hub/local-presence.js';
import type { IngestSource } from './ingest/source.js';
import { acceptBroadcast, acceptPublish } from './ingest/decode-publish.js';
import type { PublishItem } from './ingest/publish-item.js';
import { createLogger } from './logger.js';
import { Metrics } from './metrics.js';
import { createStore } from './store/create-store.js';
import { guardOutages } from './store/outage-guard.js';
import { databaseStartupError } from './store/startup-error.js';
import type { Store, StoredEvent } from './store/store.js';
import type { Connection } from './transport/connection.js';
import { SocketServer } from './transport/socket-server.js';
import { StreamSync } from './transport/stream-sync.js';

export interface HeraldOptions {
  config: Config;
  /** Defaults to the store that config.databaseUrl names. Herald closes it on close(). */
  store?: Store;
  /** Defaults to the in-memory broker of a single node. */
  broker?: Broker;
  logger?: Logger;
}

/** What a producer hands Herald: the same shape as one item of `POST /publish`. */
export type PublishInput = PublishItem;

/** What sendToUser takes besides the user, the type and the payload. */
export type SendOptions = Partial<Pick<PublishItem, 'id' | 'category' | 'expires_at' | 'ttl_s' | 'actions'>>;

/** The parts a running Herald holds; built once by Herald.create. */
interface HeraldParts {
  config: Config;
  logger: Logger;
  delivery: Delivery;
  presence: Presence;
  sockets: SocketServer;
  app: FastifyInstance;
  lifecycle: { accepting: boolean };
  /** Everything create() opened, closed last first by close() (or by a create() that failed). */
  disposers: Disposers;
}

/**
 * A Herald gateway: the composition root that builds store, broker, hub, delivery and transports, and closes
 * them in reverse. Use `listen()` to serve on its own, or `attach()` to add the WebSocket endpoint to your own
 * http.Server and call `sendToUser` / `broadcast` from your code.
 */
export class Herald {
  private closed: Promise<void> | undefined;

  private constructor(private readonly parts: HeraldParts) {}

  get config(): Config {
    return this.parts.config;
  }

  get logger(): Logger {
    return this.parts.logger;
  }

  /** The REST API as a Fastify instance (its routes are listed in /openapi.json). */
  get app(): FastifyInstance {
    return this.parts.app;
  }

  /**
   * Builds every part, registering each one's close as it is opened: a start that fails part-way closes what it
   * opened (the store's file, the Redis sockets, the keepalive timer) and rethrows. Checks the configuration
   * before it opens anything.
   */
  static async create(options: HeraldOptions): Promise<Herald> {
    const { config } = options;
    const logger = options.logger ?? createLogger(config.logLevel);
    const apiKey = requireApiKey(config);
    const verifyToken = createVerifier(config);
    const disposers = new Disposers();
    try {
      return await Herald.assemble(options, { logger, apiKey, verifyToken, disposers });
    } catch (error) {
      await disposers.closeAll(logger);
      throw error;
    }
  }

  private static async assemble(
    { config, ...given }: HeraldOptions,
    { logger, apiKey, verifyToken, disposers }: { logger: Logger; apiKey: string; verifyToken: TokenVerifier; disposers: Disposers },
  ): Promise<Herald> {
    // Every caller (HTTP, Kafka, replay) sees an outage as the same Unavailable error.
    const store = guardOutages(
      given.store ??
        createStore(config.databaseUrl, {
          sqliteSynchronous: config.sqliteSynchronous,
          limits: { maxNotificationsPerUser: config.maxNotificationsPerUser, maxEventsPerUser: config.maxNotificationsPerUser },
          onPoolError: (error) => logger.warn({ err: error }, 'a database connection failed; it will be replaced'),
          onCheckpointFailure: (reason) => logger.warn({ reason }, 'a background checkpoint of the SQLite file failed; the next one tries again'),
        }),
    );
    disposers.add('the store', () => store.close());
    // The first contact with the configured database: a failure of its URL's making names HERALD_DATABASE_URL.
    await store.migrate().catch((error: unknown) => {
      throw (given.store === undefined && databaseStartupError(error)) || error;
    });
    const limits = { maxNotificationsPerUser: config.maxNotificationsPerUser, maxEventsPerUser: config.maxNotificationsPerUser };
    const retention = new Retention({ store, logger, retentionDays: config.retentionDays, limits });
    retention.start();
    disposers.add('the retention sweep', () => retention.stop());
    const hub = new Hub<Connection>({
      maxConnectionsPerUser: config.maxConnectionsPerUser,
      maxConnectionsPerAddress: config.maxConnectionsPerAddress,
    });
    let cluster: Cluster | undefined;
    // The gauges read the hub and the cluster only when scraped.
    const metrics = new Metrics({
      connections: () => hub.connectionCount,
      users: () => hub.userCount,
      clusterNodes: () => cluster?.presence.nodeCount() ?? 1,
    });
    if (config.cluster) {
      // Loaded only in cluster mode: the Redis client is a few hundred ms of start-up that a restart waits for.
      const { startCluster } = await import('./cluster/start-cluster.js');
      cluster = await startCluster(config.cluster, { metrics, logger });
      disposers.add('the Redis link', () => cluster!.close());
    }
    const presence = cluster?.presence ?? new LocalPresence(hub);
    disposers.add('presence', () => presence.close());
    const broker = given.broker ?? cluster?.broker ?? new MemoryBroker();
    disposers.add('the broker', () => broker.close());
    const admission = new Admission({ hub, broker, presence, metrics, maxConnectionsPerUser: config.maxConnectionsPerUser });
    const delivery = new Delivery(store, broker, metrics);
    const sync = new StreamSync({
      store,
      hub,
      metrics,
      pingIntervalMs: config.pingIntervalMs,
      replayPageSize: config.replayPageSize,
      maxBufferedBytes: config.maxBufferedBytes,
      resyncConcurrency: config.resyncConcurrency,
      onError: (connection, error) => {
        // The client resumes from its last seq on reconnect, so closing loses nothing.
        logger.warn({ err: error, user: connection.userId }, 'catching up failed; closing the connection');
        const close = closeFor(error);
        connection.close(close.code, close.reason);
      },
    });
    await broker.connect({
      event: (event) => sync.deliver(event),
      broadcast: (message) => sync.broadcast(message),
      erased: (userId) => {
        // Copied first: a closed connection leaves the hub's set while it is being read.
        for (const connection of [...(hub.connectionsOf(userId) ?? [])]) connection.close(CloseCode.UserErased, 'the user was erased');
      },
      resync: () => void sync.resyncAll(),
    });
    const lifecycle = { accepting: true };
    const sources: IngestSource[] = [];
    if (config.kafka) {
      // Loaded only when configured: the Kafka client costs about a second of start-up CPU in every process.
      const { KafkaSource } = await import('./ingest/kafka-source.js');
      sources.push(
        new KafkaSource({
          config: config.kafka,
          // One size limit for every door: a record may be as large as an HTTP body.
          maxRecordBytes: config.maxBodyBytes,
          // A record whose frame no tab could be sent is dead-lettered, as such an HTTP item is refused.
          maxFrameBytes: config.maxBufferedBytes,
          delivery,
          metrics,
          logger: logger.child({ source: 'kafka' }),
        }),
      );
    }
    // Before anything listens: refused credentials or a topic that must exist stop start-up here.
    for (const source of sources) await source.prepare();
    const app = await buildHttpApp({
      logger,
      maxBodyBytes: config.maxBodyBytes,
      headersTimeoutMs: config.headersTimeoutMs,
      allowedOrigins: config.allowedOrigins,
      user: { store, delivery, verifyToken, metrics },
      publish: { apiKey, delivery, hub, metrics, maxFrameBytes: config.maxBufferedBytes },
      ops: { store, metrics, accepting: () => lifecycle.accepting, sources, redis: cluster && (() => cluster.link.state) },
    });
    disposers.add('the HTTP server', () => app.close());
    const sockets = new SocketServer({
      hub,
      admission,
      sync,
      verifyToken,
      metrics,
      logger,
      allowedOrigins: config.allowedOrigins,
      maxMessageBytes: config.maxMessageBytes,
      maxHandshakes: config.maxHandshakes,
      maxHandshakeQueue: config.maxHandshakeQueue,
      headersTimeoutMs: config.headersTimeoutMs,
      pingIntervalMs: config.pingIntervalMs,
      idleTimeoutMs: config.idleTimeoutMs,
      tokenGraceMs: config.tokenGraceMs,
      maxBufferedBytes: config.maxBufferedBytes,
      maxFramesPerSecond: config.maxFramesPerSecond,
      frameBurst: config.frameBurst,
    });
    // Connections are told to go elsewhere (1012) before the HTTP server closes.
    disposers.add('the WebSocket server', () => sockets.drain(config.shutdownTimeoutMs));
    app.server.on('upgrade', sockets.handleUpgrade);
    for (const source of sources) {
      source.start();
      // Ingest stops first: its batch in hand is stored (and delivered) or left uncommitted for the next consumer.
      disposers.add(`the ${source.name} source`, () => source.stop());
    }
    return new Herald({ config, logger, delivery, presence, sockets, app, lifecycle, disposers });
  }

  /** Serves REST and WebSocket on config.host:config.port (0 picks a free port). */
  async listen(): Promise<AddressInfo> {
    await this.app.listen({ host: this.config.host, port: this.config.port, backlog: LISTEN_BACKLOG });
    return this.app.server.address() as AddressInfo;
  }

  /** Adds Herald's WebSocket endpoint (/ws/notifications) to your own server. */
  attach(server: Server): void {
    server.on('upgrade', this.parts.sockets.handleUpgrade);
  }

  /** Stores and delivers one event or a batch (one transaction); returns the events stored, duplicates left out. */
  async publish(input: PublishInput | readonly PublishInput[]): Promise<StoredEvent[]> {
    // The library is an edge too: a caller in plain JavaScript gets the same checks as an HTTP producer.
    // What a tab could not be sent (a frame over HERALD_MAX_BUFFERED_BYTES) is refused as over HTTP, with a 413 error.
    const accepted = acceptPublish(input, 'input', this.config.maxBufferedBytes);
    if (!accepted.ok) throw accepted.error;
    return this.parts.delivery.publish(accepted.value);
  }

  /**
   * Stores an event in the user's inbox and pushes it to every tab of the user. `options` are the publish item's
   * optional fields: its idempotency `id`, and for a new_notification `category`, `expires_at` or `ttl_s`, `actions`.
   */
  async sendToUser(
    userId: string,
    type: PublishInput['type'],
    payload: Record<string, unknown>,
    options: SendOptions = {},
  ): Promise<StoredEvent | undefined> {
    const [event] = await this.publish({ user_id: userId, type, payload, ...options });
    return event;
  }

  /** Pushes a frame to every connected user now; it is not stored and not replayed. */
  broadcast(type: PublishInput['type'], payload: Record<string, unknown>): void {
    const accepted = acceptBroadcast({ type, payload }, 'input', this.config.maxBufferedBytes);
    if (!accepted.ok) throw accepted.error;
    this.parts.delivery.broadcast(accepted.value.type, accepted.value.payload);
  }

  /**
   * Whether the user has a connection open on any node. This node's own connections count at once; in a cluster,
   * other nodes' are known within moments (at most a presence heartbeat, HERALD_PRESENCE_TTL_MS / 3).
   */
  isConnected(userId: string): boolean {
    return this.parts.presence.isConnected(userId);
  }

  /** The users with a connection open on any node, as isConnected sees them. */
  connectedUsers(): string[] {
    return this.parts.presence.connectedUsers();
  }

  /**
   * Graceful stop: refuse new connections, stop ingest, tell every client to reconnect elsewhere (1012) after its
   * queued frames, finish in-flight requests, then close the broker, presence and the store.
   */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.parts.lifecycle.accepting = false;
    await this.parts.disposers.closeAll(this.logger);
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
  if (!config.apiKey) throw new StartupError('HERALD_API_KEY is required to serve the publish API');
  return config.apiKey;
}
