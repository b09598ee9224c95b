import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import envSchema from 'env-schema';
import Type, { type Static, type TObject, type TOptional, type TSchema } from 'typebox';
import { StartupError } from './errors.js';
import { describeSchemaError } from './schema-errors.js';
import { parseDatabaseUrl } from './store/database-url.js';
import type { SqliteSynchronous } from './store/open-sqlite.js';
import { FRAME_OVERHEAD_BYTES } from './transport/frame-size.js';

/**
 * One environment variable that is one Config field: its name, its schema (with its default, or Type.Optional
 * when it may be absent) and how the validated text becomes the field's value (as it is, unless told).
 */
interface Setting<S extends TSchema = TSchema, V = unknown> {
  readonly env: string;
  readonly schema: S;
  readonly read: (value: unknown) => V;
}

function setting<S extends TSchema, V = Static<S>>(env: string, schema: S, decode?: (value: Static<S>) => V): Setting<S, V> {
  // The schema has validated `value` before read sees it, so it is a Static<S>.
  return { env, schema, read: (value) => (decode ? decode(value as Static<S>) : value) as V };
}

type Settings = Record<string, Setting>;
type IsOptional<S extends Setting> = S['schema'] extends TOptional<TSchema> ? true : false;

/** The fields a table of settings gives: one per row, `?:` where the variable may be absent. Doc comments carry over. */
type Fields<T extends Settings> = {
  -readonly [K in keyof T as IsOptional<T[K]> extends true ? never : K]: ReturnType<T[K]['read']>;
} & {
  -readonly [K in keyof T as IsOptional<T[K]> extends true ? K : never]?: ReturnType<T[K]['read']>;
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Settings that are Config fields as they are; a new one is one row here (and one in README's table). */
const SETTINGS = {
  host: setting('HERALD_HOST', Type.String({ default: '127.0.0.1', minLength: 1 })),
  port: setting('HERALD_PORT', Type.Integer({ default: 8000, minimum: 0, maximum: 65535 })),
  dataDir: setting('HERALD_DATA_DIR', Type.String({ default: './data', minLength: 1 })),
  /** full (the default): a commit is on disk before publish answers; normal: no fsync per commit (see openSqlite). */
  sqliteSynchronous: setting(
    'HERALD_SQLITE_SYNCHRONOUS',
    Type.Union([Type.Literal('full'), Type.Literal('normal')], { default: 'full' }),
    (value): SqliteSynchronous => value,
  ),
  jwtSecret: setting('HERALD_JWT_SECRET', Type.Optional(Type.String({ minLength: 32 }))),
  jwksUrl: setting('HERALD_JWKS_URL', Type.Optional(Type.String({ pattern: '^https?://' }))),
  jwtIssuer: setting('HERALD_JWT_ISSUER', Type.Optional(Type.String({ minLength: 1 }))),
  jwtAudience: setting('HERALD_JWT_AUDIENCE', Type.Optional(Type.String({ minLength: 1 }))),
  jwtClockToleranceS: setting('HERALD_JWT_CLOCK_TOLERANCE_S', Type.Integer({ default: 5, minimum: 0, maximum: 300 })),
  /** Refuse tokens without an `exp` claim (the default): one without it would hold a socket open forever. */
  jwtRequireExp: setting(
    'HERALD_JWT_REQUIRE_EXP',
    // An enum rather than a boolean: the error then lists the two accepted spellings.
    Type.Enum(['true', 'false'], { default: 'true' }),
    (value) => value === 'true',
  ),
  /** When set, the most seconds a token may span from `iat` to `exp`; a token without `iat` is then refused. */
  jwtMaxTtlS: setting('HERALD_JWT_MAX_TTL_S', Type.Optional(Type.Integer({ minimum: 1 }))),
  apiKey: setting('HERALD_API_KEY', Type.Optional(Type.String({ minLength: 16 }))),
  pingIntervalMs: setting('HERALD_PING_INTERVAL_MS', Type.Integer({ default: 30_000, minimum: 10 })),
  idleTimeoutMs: setting('HERALD_IDLE_TIMEOUT_MS', Type.Integer({ default: 60_000, minimum: 20 })),
  /** How long a client may take to send a request's headers (WebSocket upgrades included). */
  headersTimeoutMs: setting('HERALD_HEADERS_TIMEOUT_MS', Type.Integer({ default: 10_000, minimum: 100, maximum: 300_000 })),
  /** How long a connection whose token expired stays open for a `refresh` frame. */
  tokenGraceMs: setting('HERALD_TOKEN_GRACE_MS', Type.Integer({ default: 30_000, minimum: 0, maximum: 3_600_000 })),
  /** Frames a connection may send per second on average (a token bucket); past its burst it is closed with 4030. */
  maxFramesPerSecond: setting('HERALD_MAX_FRAMES_PER_SECOND', Type.Integer({ default: 20, minimum: 1, maximum: 100_000 })),
  /** Frames a connection may send at once above that rate before it is closed. */
  frameBurst: setting('HERALD_FRAME_BURST', Type.Integer({ default: 100, minimum: 1, maximum: 1_000_000 })),
  maxMessageBytes: setting('HERALD_MAX_MESSAGE_BYTES', Type.Integer({ default: 64 * 1024, minimum: 256, maximum: 16 * 1024 * 1024 })),
  /**
   * The slow-consumer bound, and so the largest frame a tab can be sent: 1 MiB + 64 KiB, room for an event made
   * from a whole default body (1 MiB plus FRAME_OVERHEAD_BYTES) behind some unsent data (see checkConsistency).
   */
  maxBufferedBytes: setting('HERALD_MAX_BUFFERED_BYTES', Type.Integer({ default: 1024 * 1024 + 64 * 1024, minimum: 1024 })),
  maxBodyBytes: setting('HERALD_MAX_BODY_BYTES', Type.Integer({ default: 1024 * 1024, minimum: 1024 })),
  maxConnectionsPerUser: setting('HERALD_MAX_CONNECTIONS_PER_USER', Type.Integer({ default: 20, minimum: 1 })),
  maxConnectionsPerAddress: setting('HERALD_MAX_CONNECTIONS_PER_ADDRESS', Type.Integer({ default: 1000, minimum: 1 })),
  maxHandshakes: setting('HERALD_MAX_HANDSHAKES', Type.Integer({ default: 512, minimum: 1 })),
  /** Upgrades that wait for a handshake slot (up to the headers timeout) before they are refused with 503. */
  maxHandshakeQueue: setting('HERALD_MAX_HANDSHAKE_QUEUE', Type.Integer({ default: 8192, minimum: 0, maximum: 100_000 })),
  /** Notifications and stream events older than this are removed (in small batches, by every node). */
  retentionDays: setting('HERALD_RETENTION_DAYS', Type.Integer({ default: 90, minimum: 1, maximum: 36_500 })),
  /** A user's inbox keeps at most this many notifications, and their stream this many events; the oldest go first. */
  maxNotificationsPerUser: setting('HERALD_MAX_NOTIFICATIONS_PER_USER', Type.Integer({ default: 10_000, minimum: 1, maximum: 1_000_000 })),
  /** Events read from the store per query while a connection catches up (resume, or a tab that fell behind). */
  replayPageSize: setting('HERALD_REPLAY_PAGE_SIZE', Type.Integer({ default: 500, minimum: 1, maximum: 5000 })),
  /** Connections that re-read the store at once after the link between nodes came back. */
  resyncConcurrency: setting('HERALD_RESYNC_CONCURRENCY', Type.Integer({ default: 16, minimum: 1, maximum: 1000 })),
  shutdownTimeoutMs: setting('HERALD_SHUTDOWN_TIMEOUT_MS', Type.Integer({ default: 10_000, minimum: 0 })),
  logLevel: setting(
    'HERALD_LOG_LEVEL',
    Type.Union(LOG_LEVELS.map((level) => Type.Literal(level)), { default: 'info' }),
    // TypeBox types a union built from an array as never; the value is one of LOG_LEVELS, a string.
    (value): string => value,
  ),
};

const KAFKA_TOPIC_PATTERN = '^[A-Za-z0-9._-]{1,249}$';

/** KafkaConfig's fields as they are; they count only when HERALD_KAFKA_BROKERS is set. */
const KAFKA_SETTINGS = {
  topic: setting('HERALD_KAFKA_TOPIC', Type.String({ default: 'notifications', pattern: KAFKA_TOPIC_PATTERN })),
  group: setting('HERALD_KAFKA_GROUP', Type.String({ default: 'herald', minLength: 1 })),
  /**
   * Records stored per transaction, at most. A batch is only as large as what has arrived, so at a steady rate
   * batches stay small whatever this is; it decides how fast a backlog drains (BENCHMARKS.md, Kafka: 5,000 a batch
   * drained 1.4-2.1x faster than 500), and how long each of the drain's transactions keeps readers waiting. On
   * SQLite a transaction runs in slices of a few ms (sqlite-appender.ts), so it does not hold the event loop.
   */
  batchSize: setting('HERALD_KAFKA_BATCH_SIZE', Type.Integer({ default: 5000, minimum: 1, maximum: 5000 })),
  /**
   * true (the default): a missing dead-letter topic is created (as many partitions as the topic) and a missing
   * topic is waited for; false: either missing stops start-up, for clusters where topics are provisioned.
   */
  createTopics: setting('HERALD_KAFKA_CREATE_TOPICS', Type.Enum(['true', 'false'], { default: 'true' }), (value) => value === 'true'),
  /** json: the value is one publish item; headers: user id from the key, type and id from headers, value = payload. */
  format: setting(
    'HERALD_KAFKA_FORMAT',
    Type.Union([Type.Literal('json'), Type.Literal('headers')], { default: 'json' }),
    (value): KafkaFormat => value,
  ),
};

/** How a record of the topic carries a notification (HERALD_KAFKA_FORMAT). */
export type KafkaFormat = 'json' | 'headers';

/** ClusterConfig's fields as they are; they count only when HERALD_REDIS_URL is set. */
const CLUSTER_SETTINGS = {
  /** Put before every Redis key and channel name, so that several deployments can share one Redis. */
  keyPrefix: setting('HERALD_REDIS_KEY_PREFIX', Type.String({ default: 'herald:', pattern: '^[^\\s]{1,64}$' })),
  /** A node that stops heartbeating leaves the cluster's presence within this time. */
  presenceTtlMs: setting('HERALD_PRESENCE_TTL_MS', Type.Integer({ default: 15_000, minimum: 300, maximum: 600_000 })),
};

/** Variables that loadConfig turns into fields itself: a default from another variable, a list, a group's switch. */
const DERIVED = {
  NODE_ENV: Type.String({ default: 'development' }),
  HERALD_DATABASE_URL: Type.Optional(Type.String({ minLength: 1 })),
  HERALD_ALLOWED_ORIGINS: Type.Optional(Type.String()),
  HERALD_KAFKA_BROKERS: Type.Optional(Type.String({ pattern: '^[^\\s,:]+:\\d{1,5}(,[^\\s,:]+:\\d{1,5})*$' })),
  HERALD_KAFKA_DLQ_TOPIC: Type.Optional(Type.String({ pattern: KAFKA_TOPIC_PATTERN })),
  // The Kafka security settings: kafkaConfig makes KafkaConfig.sasl and KafkaConfig.tls of them.
  HERALD_KAFKA_SASL_MECHANISM: Type.Optional(Type.Enum(['plain', 'scram-sha-256', 'scram-sha-512'])),
  HERALD_KAFKA_SASL_USERNAME: Type.Optional(Type.String({ minLength: 1 })),
  HERALD_KAFKA_SASL_PASSWORD: Type.Optional(Type.String({ minLength: 1 })),
  HERALD_KAFKA_TLS: Type.Enum(['true', 'false'], { default: 'false' }),
  HERALD_KAFKA_TLS_CA_FILE: Type.Optional(Type.String({ minLength: 1 })),
  HERALD_KAFKA_TLS_CERT_FILE: Type.Optional(Type.String({ minLength: 1 })),
  HERALD_KAFKA_TLS_KEY_FILE: Type.Optional(Type.String({ minLength: 1 })),
  // A DNS name: what the broker's certificate must be issued for, and the name sent in TLS's SNI.
  HERALD_KAFKA_TLS_SERVERNAME: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$' })),
  HERALD_REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  HERALD_NODE_ID: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$' })),
};

type Derived = Static<TObject<typeof DERIVED>>;

const TABLES: Settings[] = [SETTINGS, KAFKA_SETTINGS, CLUSTER_SETTINGS];

/** Every variable Herald reads, with its schema: what env-schema validates. */
export const ENV_SCHEMA = Type.Object({
  ...Object.fromEntries(TABLES.flatMap((table) => Object.values(table).map(({ env, schema }) => [env, schema]))),
  ...DERIVED,
});

/** The name of every variable Herald reads (README's configuration table documents each). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(ENV_SCHEMA.properties);

/** Herald's configuration, validated once at start-up. */
export interface Config extends Fields<typeof SETTINGS> {
  production: boolean;
  databaseUrl: string;
  /** Empty: any Origin is accepted. */
  allowedOrigins: string[];
  /** Present when HERALD_KAFKA_BROKERS turns the Kafka consumer on. */
  kafka?: KafkaConfig;
  /** Present when HERALD_REDIS_URL turns cluster mode on. */
  cluster?: ClusterConfig;
}

export interface KafkaConfig extends Fields<typeof KAFKA_SETTINGS> {
  brokers: string[];
  deadLetterTopic: string;
  /** Present when HERALD_KAFKA_SASL_MECHANISM is set: every connection logs in with it. */
  sasl?: KafkaSasl;
  /** Present when HERALD_KAFKA_TLS=true: every connection is TLS. */
  tls?: KafkaTls;
}

export interface KafkaSasl {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  /** A secret: never logged, never in an error message. */
  password: string;
}

/** File paths, as configured; kafkaConnection reads and checks the files when the clients are made. */
export interface KafkaTls {
  /** PEM certificates to trust instead of the system's store; absent: the system's store. */
  caFile?: string;
  /** PEM client certificate (chain) and its unencrypted private key, for listeners that require one: both or neither. */
  certFile?: string;
  keyFile?: string;
  /** The name the broker's certificate is checked against, instead of the host in HERALD_KAFKA_BROKERS. */
  servername?: string;
}

export interface ClusterConfig extends Fields<typeof CLUSTER_SETTINGS> {
  redisUrl: string;
  /** This node's name in presence and logs; unique per running process. */
  nodeId: string;
}

/** A configuration error names the variable; start-up prints it as one line and stops. */
export class ConfigError extends StartupError {
  override name = 'ConfigError';
}

/** Reads HERALD_* variables from `env` into a Config, or throws a ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw = parseEnv(env);
  const derived = raw as Derived;
  const fields = fieldsOf(SETTINGS, raw);
  const config: Config = {
    ...fields,
    production: derived.NODE_ENV === 'production',
    databaseUrl: databaseUrl(derived.HERALD_DATABASE_URL, fields.dataDir),
    allowedOrigins: parseOrigins(derived.HERALD_ALLOWED_ORIGINS),
    kafka: derived.HERALD_KAFKA_BROKERS ? kafkaConfig(derived.HERALD_KAFKA_BROKERS, derived, raw) : undefined,
    cluster: derived.HERALD_REDIS_URL ? clusterConfig(derived.HERALD_REDIS_URL, derived, raw) : undefined,
  };
  checkConsistency(config);
  return config;
}

function kafkaConfig(brokers: string, derived: Derived, raw: Record<string, unknown>): KafkaConfig {
  const fields = fieldsOf(KAFKA_SETTINGS, raw);
  return {
    brokers: brokers.split(','),
    ...fields,
    deadLetterTopic: derived.HERALD_KAFKA_DLQ_TOPIC ?? `${fields.topic}.dlq`,
    sasl: kafkaSasl(derived),
    tls: kafkaTls(derived),
  };
}

/** The SASL login, all three variables or none: half a login would connect without one, or fail at the broker. */
function kafkaSasl(derived: Derived): KafkaSasl | undefined {
  const { HERALD_KAFKA_SASL_MECHANISM: mechanism, HERALD_KAFKA_SASL_USERNAME: username, HERALD_KAFKA_SASL_PASSWORD: password } = derived;
  if (mechanism === undefined) {
    const stray = username !== undefined ? 'HERALD_KAFKA_SASL_USERNAME' : password !== undefined ? 'HERALD_KAFKA_SASL_PASSWORD' : undefined;
    if (stray === undefined) return undefined;
    throw new ConfigError(`Invalid configuration: ${stray} is set but HERALD_KAFKA_SASL_MECHANISM is not; set it to plain, scram-sha-256 or scram-sha-512`);
  }
  for (const [name, value] of [['HERALD_KAFKA_SASL_USERNAME', username], ['HERALD_KAFKA_SASL_PASSWORD', password]] as const) {
    if (value === undefined) throw new ConfigError(`Invalid configuration: HERALD_KAFKA_SASL_MECHANISM (${mechanism}) needs ${name}`);
  }
  return { mechanism: mechanism as KafkaSasl['mechanism'], username: username!, password: password! };
}

/** TLS when HERALD_KAFKA_TLS=true; a file or name set without it would be ignored, and the connection plaintext. */
function kafkaTls(derived: Derived): KafkaTls | undefined {
  const tls: KafkaTls = {
    caFile: derived.HERALD_KAFKA_TLS_CA_FILE,
    certFile: derived.HERALD_KAFKA_TLS_CERT_FILE,
    keyFile: derived.HERALD_KAFKA_TLS_KEY_FILE,
    servername: derived.HERALD_KAFKA_TLS_SERVERNAME,
  };
  if (derived.HERALD_KAFKA_TLS !== 'true') {
    const stray = Object.entries(TLS_VARIABLES).find(([field]) => tls[field as keyof KafkaTls] !== undefined)?.[1];
    if (stray === undefined) return undefined;
    throw new ConfigError(`Invalid configuration: ${stray} is set but HERALD_KAFKA_TLS is not true; set HERALD_KAFKA_TLS=true to connect over TLS`);
  }
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    const [set, missing] = tls.certFile === undefined ? ['HERALD_KAFKA_TLS_KEY_FILE', 'HERALD_KAFKA_TLS_CERT_FILE'] : ['HERALD_KAFKA_TLS_CERT_FILE', 'HERALD_KAFKA_TLS_KEY_FILE'];
    throw new ConfigError(`Invalid configuration: ${set} needs ${missing}; a client certificate is given as both files`);
  }
  return tls;
}

/** The variable behind each KafkaTls field, for messages. */
export const TLS_VARIABLES: { readonly [Field in keyof Required<KafkaTls>]: string } = {
  caFile: 'HERALD_KAFKA_TLS_CA_FILE',
  certFile: 'HERALD_KAFKA_TLS_CERT_FILE',
  keyFile: 'HERALD_KAFKA_TLS_KEY_FILE',
  servername: 'HERALD_KAFKA_TLS_SERVERNAME',
};

function clusterConfig(redisUrl: string, derived: Derived, raw: Record<string, unknown>): ClusterConfig {
  return {
    redisUrl,
    ...fieldsOf(CLUSTER_SETTINGS, raw),
    // A restarted process is a new node: its predecessor's presence entries must expire, not be adopted.
    nodeId: derived.HERALD_NODE_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
  };
}

/** A table's fields from the validated variables; an absent optional one is there, as undefined. */
function fieldsOf<T extends Settings>(table: T, raw: Record<string, unknown>): Fields<T> {
  const fields: Record<string, unknown> = {};
  for (const [field, { env, read }] of Object.entries(table)) {
    const value = raw[env];
    fields[field] = value === undefined ? undefined : read(value);
  }
  // One row per key of T, each read as its Setting says: the shape Fields<T> describes.
  return fields as Fields<T>;
}

function parseEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const data: Record<string, string> = {};
  for (const name of CONFIG_VARIABLES) {
    const value = env[name];
    // An empty variable means "not set", as in most shells' `VAR= cmd`.
    if (value !== undefined && value !== '') data[name] = value;
  }
  try {
    // env: false, or env-schema would read process.env under `data`: loadConfig(env) reads only the env it is given.
    return envSchema<Record<string, unknown>>({ schema: ENV_SCHEMA, data, dotenv: false, env: false });
  } catch (error) {
    const errors = (error as { errors?: Parameters<typeof describeSchemaError>[1] }).errors ?? [];
    throw new ConfigError(`Invalid configuration: ${describeSchemaError('', errors)}`);
  }
}

/** HERALD_DATABASE_URL as it is, once it names a store Herald has; else the SQLite file in HERALD_DATA_DIR. */
function databaseUrl(configured: string | undefined, dataDir: string): string {
  if (configured === undefined) return `${dataDir}/herald.db`;
  const target = parseDatabaseUrl(configured);
  if (!target.ok) throw new ConfigError(`Invalid configuration: HERALD_DATABASE_URL ${target.error}`);
  return configured;
}

function parseOrigins(value: string | undefined): string[] {
  if (!value) return [];
  const origins = value.split(',').map((origin) => origin.trim()).filter(Boolean);
  for (const origin of origins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError(
        `Invalid configuration: HERALD_ALLOWED_ORIGINS has "${origin}"; expected origins like https://app.example.com, comma-separated`,
      );
    }
  }
  return origins.includes('*') ? [] : origins;
}

function checkConsistency(config: Config): void {
  // Every item (and Kafka record) is refused when its frame would pass the bound; with the bound this much above
  // the body limit, that refusal never meets an item that fits in a body as JSON.stringify writes it.
  if (config.maxBufferedBytes < config.maxBodyBytes + FRAME_OVERHEAD_BYTES) {
    throw new ConfigError(
      `Invalid configuration: HERALD_MAX_BUFFERED_BYTES (${config.maxBufferedBytes}) must be at least HERALD_MAX_BODY_BYTES ` +
        `(${config.maxBodyBytes}) + ${FRAME_OVERHEAD_BYTES}, or an event published in one body could be too large to send to any tab`,
    );
  }
  if (config.idleTimeoutMs <= config.pingIntervalMs) {
    throw new ConfigError(
      'Invalid configuration: HERALD_IDLE_TIMEOUT_MS must be greater than HERALD_PING_INTERVAL_MS, or clients that answer every ping are cut off',
    );
  }
  if (config.kafka && config.kafka.deadLetterTopic === config.kafka.topic) {
    throw new ConfigError('Invalid configuration: HERALD_KAFKA_DLQ_TOPIC must differ from HERALD_KAFKA_TOPIC, or bad records would be consumed again forever');
  }
  if (config.cluster) checkCluster(config.cluster, config.databaseUrl);
  if ((config.jwtIssuer || config.jwtAudience) && !config.jwksUrl && !config.jwtSecret) {
    throw new ConfigError('Invalid configuration: HERALD_JWT_ISSUER and HERALD_JWT_AUDIENCE need HERALD_JWKS_URL or HERALD_JWT_SECRET');
  }
  if (config.jwtMaxTtlS !== undefined && !config.jwtRequireExp) {
    throw new ConfigError(
      'Invalid configuration: HERALD_JWT_MAX_TTL_S needs tokens with an exp claim; it cannot be combined with HERALD_JWT_REQUIRE_EXP=false',
    );
  }
  if (config.production && !config.jwtSecret && !config.jwksUrl) {
    throw new ConfigError('Invalid configuration: HERALD_JWT_SECRET or HERALD_JWKS_URL is required when NODE_ENV=production');
  }
  if (config.production && !config.apiKey) {
    throw new ConfigError('Invalid configuration: HERALD_API_KEY is required when NODE_ENV=production');
  }
}

function checkCluster(cluster: ClusterConfig, databaseUrl: string): void {
  let url: URL;
  try {
    url = new URL(cluster.redisUrl);
  } catch {
    throw new ConfigError('Invalid configuration: HERALD_REDIS_URL is not a valid URL; expected redis://[user:password@]host[:port][/db]');
  }
  if (url.hostname === '') {
    throw new ConfigError('Invalid configuration: HERALD_REDIS_URL names no host; expected redis://[user:password@]host[:port][/db]');
  }
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(
      'Invalid configuration: HERALD_REDIS_URL (cluster mode) needs a PostgreSQL HERALD_DATABASE_URL; a SQLite file cannot be shared by several nodes',
    );
  }
}
