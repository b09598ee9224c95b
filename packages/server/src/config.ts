import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import envSchema from 'env-schema';
import Type, { type Static } from 'typebox';
import { describeSchemaError } from './schema-errors.js';
import type { SqliteSynchronous } from './store/open-sqlite.js';

const ConfigSchema = Type.Object({
  NODE_ENV: Type.String({ default: 'development' }),
  HERALD_HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  HERALD_PORT: Type.Integer({ default: 8000, minimum: 0, maximum: 65535 }),
  HERALD_DATA_DIR: Type.String({ default: './data', minLength: 1 }),
  HERALD_DATABASE_URL: Type.Optional(Type.String({ minLength: 1 })),
  HERALD_SQLITE_SYNCHRONOUS: Type.Union([Type.Literal('full'), Type.Literal('normal')], { default: 'full' }),
  HERALD_JWT_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  HERALD_JWKS_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  HERALD_JWT_ISSUER: Type.Optional(Type.String({ minLength: 1 })),
  HERALD_JWT_AUDIENCE: Type.Optional(Type.String({ minLength: 1 })),
  HERALD_JWT_CLOCK_TOLERANCE_S: Type.Integer({ default: 5, minimum: 0, maximum: 300 }),
  // An enum rather than a boolean: the error then lists the two accepted spellings.
  HERALD_JWT_REQUIRE_EXP: Type.Enum(['true', 'false'], { default: 'true' }),
  HERALD_JWT_MAX_TTL_S: Type.Optional(Type.Integer({ minimum: 1 })),
  HERALD_API_KEY: Type.Optional(Type.String({ minLength: 16 })),
  HERALD_PING_INTERVAL_MS: Type.Integer({ default: 30_000, minimum: 10 }),
  HERALD_IDLE_TIMEOUT_MS: Type.Integer({ default: 60_000, minimum: 20 }),
  HERALD_HEADERS_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 100, maximum: 300_000 }),
  HERALD_TOKEN_GRACE_MS: Type.Integer({ default: 30_000, minimum: 0, maximum: 3_600_000 }),
  HERALD_MAX_MESSAGE_BYTES: Type.Integer({ default: 64 * 1024, minimum: 256, maximum: 16 * 1024 * 1024 }),
  HERALD_MAX_BUFFERED_BYTES: Type.Integer({ default: 1024 * 1024, minimum: 1024 }),
  HERALD_MAX_BODY_BYTES: Type.Integer({ default: 1024 * 1024, minimum: 1024 }),
  HERALD_MAX_CONNECTIONS_PER_USER: Type.Integer({ default: 20, minimum: 1 }),
  HERALD_MAX_CONNECTIONS_PER_ADDRESS: Type.Integer({ default: 1000, minimum: 1 }),
  HERALD_MAX_HANDSHAKES: Type.Integer({ default: 512, minimum: 1 }),
  HERALD_MAX_HANDSHAKE_QUEUE: Type.Integer({ default: 8192, minimum: 0, maximum: 100_000 }),
  HERALD_ALLOWED_ORIGINS: Type.Optional(Type.String()),
  HERALD_SHUTDOWN_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 0 }),
  HERALD_KAFKA_BROKERS: Type.Optional(Type.String({ pattern: '^[^\\s,:]+:\\d{1,5}(,[^\\s,:]+:\\d{1,5})*$' })),
  HERALD_KAFKA_TOPIC: Type.String({ default: 'notifications', pattern: '^[A-Za-z0-9._-]{1,249}$' }),
  HERALD_KAFKA_GROUP: Type.String({ default: 'herald', minLength: 1 }),
  HERALD_KAFKA_DLQ_TOPIC: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,249}$' })),
  HERALD_KAFKA_BATCH_SIZE: Type.Integer({ default: 500, minimum: 1, maximum: 5000 }),
  HERALD_REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  HERALD_REDIS_KEY_PREFIX: Type.String({ default: 'herald:', pattern: '^[^\\s]{1,64}$' }),
  HERALD_PRESENCE_TTL_MS: Type.Integer({ default: 15_000, minimum: 300, maximum: 600_000 }),
  HERALD_NODE_ID: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$' })),
  HERALD_LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info' },
  ),
});

type RawConfig = Static<typeof ConfigSchema>;

/** Herald's configuration, validated once at start-up. */
export interface Config {
  production: boolean;
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string;
  /** full (the default): a commit is on disk before publish answers; normal: no fsync per commit (see openSqlite). */
  sqliteSynchronous: SqliteSynchronous;
  jwtSecret?: string;
  jwksUrl?: string;
  jwtIssuer?: string;
  jwtAudience?: string;
  jwtClockToleranceS: number;
  /** Refuse tokens without an `exp` claim (the default): one without it would hold a socket open forever. */
  jwtRequireExp: boolean;
  /** When set, the most seconds a token may span from `iat` to `exp`; a token without `iat` is then refused. */
  jwtMaxTtlS?: number;
  apiKey?: string;
  pingIntervalMs: number;
  idleTimeoutMs: number;
  /** How long a connection whose token expired stays open for a `refresh` frame. */
  tokenGraceMs: number;
  maxMessageBytes: number;
  maxBufferedBytes: number;
  maxBodyBytes: number;
  /** How long a client may take to send a request's headers (WebSocket upgrades included). */
  headersTimeoutMs: number;
  maxConnectionsPerUser: number;
  maxConnectionsPerAddress: number;
  maxHandshakes: number;
  /** Upgrades that wait for a handshake slot (up to the headers timeout) before they are refused with 503. */
  maxHandshakeQueue: number;
  /** Empty: any Origin is accepted. */
  allowedOrigins: string[];
  shutdownTimeoutMs: number;
  logLevel: string;
  /** Present when HERALD_KAFKA_BROKERS turns the Kafka consumer on. */
  kafka?: KafkaConfig;
  /** Present when HERALD_REDIS_URL turns cluster mode on. */
  cluster?: ClusterConfig;
}

export interface ClusterConfig {
  redisUrl: string;
  /** Put before every Redis key and channel name, so that several deployments can share one Redis. */
  keyPrefix: string;
  /** A node that stops heartbeating leaves the cluster's presence within this time. */
  presenceTtlMs: number;
  /** This node's name in presence and logs; unique per running process. */
  nodeId: string;
}

export interface KafkaConfig {
  brokers: string[];
  topic: string;
  group: string;
  deadLetterTopic: string;
  /** Records stored per transaction, at most. */
  batchSize: number;
}

/** A configuration error names the variable; start-up prints it as one line and stops. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads HERALD_* variables from `env` into a Config, or throws a ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw = parseEnv(env);
  const config: Config = {
    production: raw.NODE_ENV === 'production',
    host: raw.HERALD_HOST,
    port: raw.HERALD_PORT,
    dataDir: raw.HERALD_DATA_DIR,
    databaseUrl: raw.HERALD_DATABASE_URL ?? `${raw.HERALD_DATA_DIR}/herald.db`,
    sqliteSynchronous: raw.HERALD_SQLITE_SYNCHRONOUS,
    jwtSecret: raw.HERALD_JWT_SECRET,
    jwksUrl: raw.HERALD_JWKS_URL,
    jwtIssuer: raw.HERALD_JWT_ISSUER,
    jwtAudience: raw.HERALD_JWT_AUDIENCE,
    jwtClockToleranceS: raw.HERALD_JWT_CLOCK_TOLERANCE_S,
    jwtRequireExp: raw.HERALD_JWT_REQUIRE_EXP === 'true',
    jwtMaxTtlS: raw.HERALD_JWT_MAX_TTL_S,
    apiKey: raw.HERALD_API_KEY,
    pingIntervalMs: raw.HERALD_PING_INTERVAL_MS,
    idleTimeoutMs: raw.HERALD_IDLE_TIMEOUT_MS,
    tokenGraceMs: raw.HERALD_TOKEN_GRACE_MS,
    maxMessageBytes: raw.HERALD_MAX_MESSAGE_BYTES,
    maxBufferedBytes: raw.HERALD_MAX_BUFFERED_BYTES,
    maxBodyBytes: raw.HERALD_MAX_BODY_BYTES,
    headersTimeoutMs: raw.HERALD_HEADERS_TIMEOUT_MS,
    maxConnectionsPerUser: raw.HERALD_MAX_CONNECTIONS_PER_USER,
    maxConnectionsPerAddress: raw.HERALD_MAX_CONNECTIONS_PER_ADDRESS,
    maxHandshakes: raw.HERALD_MAX_HANDSHAKES,
    maxHandshakeQueue: raw.HERALD_MAX_HANDSHAKE_QUEUE,
    allowedOrigins: parseOrigins(raw.HERALD_ALLOWED_ORIGINS),
    shutdownTimeoutMs: raw.HERALD_SHUTDOWN_TIMEOUT_MS,
    logLevel: raw.HERALD_LOG_LEVEL,
    kafka: raw.HERALD_KAFKA_BROKERS
      ? {
          brokers: raw.HERALD_KAFKA_BROKERS.split(','),
          topic: raw.HERALD_KAFKA_TOPIC,
          group: raw.HERALD_KAFKA_GROUP,
          deadLetterTopic: raw.HERALD_KAFKA_DLQ_TOPIC ?? `${raw.HERALD_KAFKA_TOPIC}.dlq`,
          batchSize: raw.HERALD_KAFKA_BATCH_SIZE,
        }
      : undefined,
    cluster: raw.HERALD_REDIS_URL
      ? {
          redisUrl: raw.HERALD_REDIS_URL,
          keyPrefix: raw.HERALD_REDIS_KEY_PREFIX,
          presenceTtlMs: raw.HERALD_PRESENCE_TTL_MS,
          // A restarted process is a new node: its predecessor's presence entries must expire, not be adopted.
          nodeId: raw.HERALD_NODE_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
        }
      : undefined,
  };
  checkConsistency(config);
  return config;
}

function parseEnv(env: NodeJS.ProcessEnv): RawConfig {
  const data: Record<string, string> = {};
  for (const name of Object.keys(ConfigSchema.properties)) {
    const value = env[name];
    // An empty variable means "not set", as in most shells' `VAR= cmd`.
    if (value !== undefined && value !== '') data[name] = value;
  }
  try {
    return envSchema<RawConfig>({ schema: ConfigSchema, data, dotenv: false });
  } catch (error) {
    const errors = (error as { errors?: Parameters<typeof describeSchemaError>[1] }).errors ?? [];
    throw new ConfigError(`Invalid configuration: ${describeSchemaError('', errors)}`);
  }
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
