import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config.js';
import { withDevSecrets } from '../../src/dev-secrets.js';
import { StartupError } from '../../src/errors.js';
import { configError } from '../helpers/config-error.js';

const SECRET = 'a-secret-that-is-at-least-32-characters-long';
const API_KEY = 'an-api-key-long-enough';

describe('loadConfig', () => {
  it('defaults to 127.0.0.1:8000, 30 s pings, 60 s idle timeout and SQLite in ./data', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      production: false,
      host: '127.0.0.1',
      port: 8000,
      pingIntervalMs: 30_000,
      idleTimeoutMs: 60_000,
      dataDir: './data',
      databaseUrl: './data/herald.db',
      allowedOrigins: [],
      logLevel: 'info',
    });
    expect(config.jwtSecret).toBeUndefined();
    expect(config.apiKey).toBeUndefined();
  });

  it('gives every field its default, an unset optional one as undefined, and no group without its switch', () => {
    expect(loadConfig({})).toStrictEqual({
      production: false,
      host: '127.0.0.1',
      port: 8000,
      dataDir: './data',
      databaseUrl: './data/herald.db',
      sqliteSynchronous: 'full',
      jwtSecret: undefined,
      jwksUrl: undefined,
      jwtIssuer: undefined,
      jwtAudience: undefined,
      jwtClockToleranceS: 5,
      jwtRequireExp: true,
      jwtMaxTtlS: undefined,
      apiKey: undefined,
      pingIntervalMs: 30_000,
      idleTimeoutMs: 60_000,
      headersTimeoutMs: 10_000,
      tokenGraceMs: 30_000,
      maxFramesPerSecond: 20,
      frameBurst: 100,
      maxMessageBytes: 65_536,
      maxBufferedBytes: 1_114_112,
      maxBodyBytes: 1_048_576,
      maxConnectionsPerUser: 20,
      maxConnectionsPerAddress: 1000,
      maxHandshakes: 512,
      maxHandshakeQueue: 8192,
      replayPageSize: 500,
      retentionDays: 90,
      maxNotificationsPerUser: 10_000,
      resyncConcurrency: 16,
      allowedOrigins: [],
      shutdownTimeoutMs: 10_000,
      logLevel: 'info',
      kafka: undefined,
      cluster: undefined,
    });
  });

  it('reads only the environment it is given, never process.env beside it', () => {
    const saved = { port: process.env['HERALD_PORT'], level: process.env['HERALD_LOG_LEVEL'] };
    process.env['HERALD_PORT'] = 'not-a-port';
    process.env['HERALD_LOG_LEVEL'] = 'loud';
    try {
      expect(loadConfig({}).port).toBe(8000);
      expect(loadConfig({ HERALD_PORT: '9001' }).port).toBe(9001);
      expect(loadConfig({}).logLevel).toBe('info');
    } finally {
      for (const [name, value] of [['HERALD_PORT', saved.port], ['HERALD_LOG_LEVEL', saved.level]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('groups the Kafka settings under kafka once HERALD_KAFKA_BROKERS is set', () => {
    expect(loadConfig({ HERALD_KAFKA_BROKERS: 'k1:9092,k2:9093' }).kafka).toStrictEqual({
      brokers: ['k1:9092', 'k2:9093'],
      topic: 'notifications',
      group: 'herald',
      deadLetterTopic: 'notifications.dlq',
      batchSize: 5000,
      createTopics: true,
      format: 'json',
      sasl: undefined,
      tls: undefined,
    });
    expect(
      loadConfig({
        HERALD_KAFKA_BROKERS: 'k1:9092',
        HERALD_KAFKA_TOPIC: 'events',
        HERALD_KAFKA_GROUP: 'eu',
        HERALD_KAFKA_DLQ_TOPIC: 'events-bad',
        HERALD_KAFKA_BATCH_SIZE: '50',
        HERALD_KAFKA_CREATE_TOPICS: 'false',
        HERALD_KAFKA_FORMAT: 'headers',
      }).kafka,
    ).toStrictEqual({
      brokers: ['k1:9092'],
      topic: 'events',
      group: 'eu',
      deadLetterTopic: 'events-bad',
      batchSize: 50,
      createTopics: false,
      format: 'headers',
      sasl: undefined,
      tls: undefined,
    });
  });

  it('reads the replay page size and the resync concurrency, bounds included', () => {
    expect(loadConfig({ HERALD_REPLAY_PAGE_SIZE: '1', HERALD_RESYNC_CONCURRENCY: '1' })).toMatchObject({ replayPageSize: 1, resyncConcurrency: 1 });
    expect(loadConfig({ HERALD_REPLAY_PAGE_SIZE: '5000', HERALD_RESYNC_CONCURRENCY: '1000' })).toMatchObject({
      replayPageSize: 5000,
      resyncConcurrency: 1000,
    });
    expect(loadConfig({ HERALD_REPLAY_PAGE_SIZE: '120', HERALD_RESYNC_CONCURRENCY: '4' })).toMatchObject({ replayPageSize: 120, resyncConcurrency: 4 });
    expect(loadConfig({ HERALD_REPLAY_PAGE_SIZE: '', HERALD_RESYNC_CONCURRENCY: '' })).toMatchObject({ replayPageSize: 500, resyncConcurrency: 16 });
  });

  it('reads the inbound frame limit, bounds included', () => {
    expect(loadConfig({ HERALD_MAX_FRAMES_PER_SECOND: '1', HERALD_FRAME_BURST: '1' })).toMatchObject({ maxFramesPerSecond: 1, frameBurst: 1 });
    expect(loadConfig({ HERALD_MAX_FRAMES_PER_SECOND: '100000', HERALD_FRAME_BURST: '1000000' })).toMatchObject({
      maxFramesPerSecond: 100_000,
      frameBurst: 1_000_000,
    });
    expect(loadConfig({ HERALD_MAX_FRAMES_PER_SECOND: '5', HERALD_FRAME_BURST: '40' })).toMatchObject({ maxFramesPerSecond: 5, frameBurst: 40 });
    expect(loadConfig({ HERALD_MAX_FRAMES_PER_SECOND: '', HERALD_FRAME_BURST: '' })).toMatchObject({ maxFramesPerSecond: 20, frameBurst: 100 });
  });

  it('reads every documented variable', () => {
    const config = loadConfig({
      HERALD_HOST: '0.0.0.0',
      HERALD_PORT: '9100',
      HERALD_DATABASE_URL: 'postgres://u:p@db:5432/herald',
      HERALD_JWT_SECRET: SECRET,
      HERALD_JWKS_URL: 'https://auth.example.com/api/auth/jwks',
      HERALD_JWT_ISSUER: 'https://auth.example.com',
      HERALD_JWT_AUDIENCE: 'herald',
      HERALD_API_KEY: API_KEY,
      HERALD_PING_INTERVAL_MS: '1000',
      HERALD_IDLE_TIMEOUT_MS: '2500',
      HERALD_MAX_MESSAGE_BYTES: '4096',
      HERALD_MAX_CONNECTIONS_PER_USER: '3',
      HERALD_MAX_CONNECTIONS_PER_ADDRESS: '7',
      HERALD_ALLOWED_ORIGINS: 'https://app.example.com, http://localhost:3000',
      HERALD_LOG_LEVEL: 'warn',
    });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 9100,
      databaseUrl: 'postgres://u:p@db:5432/herald',
      jwtSecret: SECRET,
      jwksUrl: 'https://auth.example.com/api/auth/jwks',
      jwtIssuer: 'https://auth.example.com',
      jwtAudience: 'herald',
      apiKey: API_KEY,
      pingIntervalMs: 1000,
      idleTimeoutMs: 2500,
      maxMessageBytes: 4096,
      maxConnectionsPerUser: 3,
      maxConnectionsPerAddress: 7,
      allowedOrigins: ['https://app.example.com', 'http://localhost:3000'],
      logLevel: 'warn',
    });
  });

  it('refuses tokens without exp and sets no lifetime limit unless told otherwise', () => {
    expect(loadConfig({})).toMatchObject({ jwtRequireExp: true, jwtMaxTtlS: undefined });
    expect(loadConfig({ HERALD_JWT_REQUIRE_EXP: 'true', HERALD_JWT_MAX_TTL_S: '3600' })).toMatchObject({ jwtRequireExp: true, jwtMaxTtlS: 3600 });
    expect(loadConfig({ HERALD_JWT_REQUIRE_EXP: 'false' }).jwtRequireExp).toBe(false);
    expect(loadConfig({ HERALD_JWT_MAX_TTL_S: '1' }).jwtMaxTtlS).toBe(1);
    // Empty is unset, as for every variable.
    expect(loadConfig({ HERALD_JWT_REQUIRE_EXP: '', HERALD_JWT_MAX_TTL_S: '' })).toMatchObject({ jwtRequireExp: true, jwtMaxTtlS: undefined });
  });

  it('syncs SQLite on every commit unless HERALD_SQLITE_SYNCHRONOUS says normal', () => {
    expect(loadConfig({}).sqliteSynchronous).toBe('full');
    expect(loadConfig({ HERALD_SQLITE_SYNCHRONOUS: 'normal' }).sqliteSynchronous).toBe('normal');
  });

  it('puts the default database in HERALD_DATA_DIR and treats an empty variable as unset', () => {
    expect(loadConfig({ HERALD_DATA_DIR: '/var/lib/herald' }).databaseUrl).toBe('/var/lib/herald/herald.db');
    expect(loadConfig({ HERALD_PORT: '', HERALD_HOST: '' })).toMatchObject({ port: 8000, host: '127.0.0.1' });
  });

  it('accepts port 0 (any free port) and production with a secret and an API key', () => {
    expect(loadConfig({ HERALD_PORT: '0' }).port).toBe(0);
    const production = loadConfig({ NODE_ENV: 'production', HERALD_JWT_SECRET: SECRET, HERALD_API_KEY: API_KEY });
    expect(production.production).toBe(true);
    const jwks = loadConfig({ NODE_ENV: 'production', HERALD_JWKS_URL: 'http://auth:3000/jwks', HERALD_API_KEY: API_KEY });
    expect(jwks.jwksUrl).toBe('http://auth:3000/jwks');
  });

  const bad: Array<{ env: NodeJS.ProcessEnv; names: string; says?: RegExp }> = [
    { env: { HERALD_PORT: 'abc' }, names: 'HERALD_PORT', says: /integer/ },
    { env: { HERALD_PORT: '70000' }, names: 'HERALD_PORT', says: /<= 65535/ },
    { env: { HERALD_PORT: '-1' }, names: 'HERALD_PORT', says: />= 0/ },
    { env: { HERALD_PORT: '80.5' }, names: 'HERALD_PORT', says: /integer/ },
    { env: { HERALD_PING_INTERVAL_MS: '-1' }, names: 'HERALD_PING_INTERVAL_MS' },
    { env: { HERALD_PING_INTERVAL_MS: 'soon' }, names: 'HERALD_PING_INTERVAL_MS' },
    { env: { HERALD_IDLE_TIMEOUT_MS: '30000' }, names: 'HERALD_IDLE_TIMEOUT_MS', says: /HERALD_PING_INTERVAL_MS/ },
    { env: { HERALD_PING_INTERVAL_MS: '5000', HERALD_IDLE_TIMEOUT_MS: '4000' }, names: 'HERALD_IDLE_TIMEOUT_MS' },
    { env: { HERALD_JWT_SECRET: 'short' }, names: 'HERALD_JWT_SECRET', says: /32/ },
    { env: { HERALD_JWKS_URL: 'ftp://auth.example.com/jwks' }, names: 'HERALD_JWKS_URL' },
    { env: { HERALD_JWKS_URL: 'auth.example.com/jwks' }, names: 'HERALD_JWKS_URL' },
    { env: { HERALD_API_KEY: 'short' }, names: 'HERALD_API_KEY' },
    { env: { HERALD_ALLOWED_ORIGINS: 'https://ok.example.com,not an origin' }, names: 'HERALD_ALLOWED_ORIGINS', says: /not an origin/ },
    { env: { HERALD_ALLOWED_ORIGINS: 'https://app.example.com/path' }, names: 'HERALD_ALLOWED_ORIGINS' },
    { env: { HERALD_LOG_LEVEL: 'loud' }, names: 'HERALD_LOG_LEVEL' },
    { env: { HERALD_SQLITE_SYNCHRONOUS: 'off' }, names: 'HERALD_SQLITE_SYNCHRONOUS' },
    { env: { HERALD_SQLITE_SYNCHRONOUS: 'FULL' }, names: 'HERALD_SQLITE_SYNCHRONOUS' },
    { env: { HERALD_MAX_MESSAGE_BYTES: '10' }, names: 'HERALD_MAX_MESSAGE_BYTES' },
    { env: { HERALD_MAX_CONNECTIONS_PER_USER: '0' }, names: 'HERALD_MAX_CONNECTIONS_PER_USER' },
    { env: { HERALD_MAX_CONNECTIONS_PER_ADDRESS: 'many' }, names: 'HERALD_MAX_CONNECTIONS_PER_ADDRESS' },
    { env: { HERALD_JWT_ISSUER: 'https://auth.example.com', HERALD_API_KEY: API_KEY }, names: 'HERALD_JWT_ISSUER' },
    { env: { HERALD_JWT_REQUIRE_EXP: 'maybe' }, names: 'HERALD_JWT_REQUIRE_EXP', says: /allowed values \(true, false\)/ },
    { env: { HERALD_JWT_REQUIRE_EXP: 'TRUE' }, names: 'HERALD_JWT_REQUIRE_EXP' },
    { env: { HERALD_JWT_REQUIRE_EXP: '0' }, names: 'HERALD_JWT_REQUIRE_EXP' },
    { env: { HERALD_JWT_REQUIRE_EXP: 'no' }, names: 'HERALD_JWT_REQUIRE_EXP' },
    { env: { HERALD_JWT_MAX_TTL_S: 'abc' }, names: 'HERALD_JWT_MAX_TTL_S', says: /integer/ },
    { env: { HERALD_JWT_MAX_TTL_S: '1h' }, names: 'HERALD_JWT_MAX_TTL_S', says: /integer/ },
    { env: { HERALD_JWT_MAX_TTL_S: '-1' }, names: 'HERALD_JWT_MAX_TTL_S', says: />= 1/ },
    { env: { HERALD_JWT_MAX_TTL_S: '0' }, names: 'HERALD_JWT_MAX_TTL_S', says: />= 1/ },
    { env: { HERALD_JWT_MAX_TTL_S: '60.5' }, names: 'HERALD_JWT_MAX_TTL_S', says: /integer/ },
    {
      env: { HERALD_JWT_MAX_TTL_S: '3600', HERALD_JWT_REQUIRE_EXP: 'false' },
      names: 'HERALD_JWT_MAX_TTL_S',
      says: /cannot be combined with HERALD_JWT_REQUIRE_EXP=false/,
    },
    { env: { HERALD_REPLAY_PAGE_SIZE: '0' }, names: 'HERALD_REPLAY_PAGE_SIZE', says: />= 1/ },
    { env: { HERALD_REPLAY_PAGE_SIZE: '-5' }, names: 'HERALD_REPLAY_PAGE_SIZE', says: />= 1/ },
    { env: { HERALD_REPLAY_PAGE_SIZE: '10.5' }, names: 'HERALD_REPLAY_PAGE_SIZE', says: /integer/ },
    { env: { HERALD_REPLAY_PAGE_SIZE: 'lots' }, names: 'HERALD_REPLAY_PAGE_SIZE', says: /integer/ },
    { env: { HERALD_REPLAY_PAGE_SIZE: '5001' }, names: 'HERALD_REPLAY_PAGE_SIZE', says: /<= 5000/ },
    { env: { HERALD_RESYNC_CONCURRENCY: '0' }, names: 'HERALD_RESYNC_CONCURRENCY', says: />= 1/ },
    { env: { HERALD_RESYNC_CONCURRENCY: '-1' }, names: 'HERALD_RESYNC_CONCURRENCY', says: />= 1/ },
    { env: { HERALD_RESYNC_CONCURRENCY: '2.5' }, names: 'HERALD_RESYNC_CONCURRENCY', says: /integer/ },
    { env: { HERALD_RESYNC_CONCURRENCY: 'all' }, names: 'HERALD_RESYNC_CONCURRENCY', says: /integer/ },
    { env: { HERALD_RESYNC_CONCURRENCY: '1001' }, names: 'HERALD_RESYNC_CONCURRENCY', says: /<= 1000/ },
    { env: { HERALD_MAX_FRAMES_PER_SECOND: '0' }, names: 'HERALD_MAX_FRAMES_PER_SECOND', says: />= 1/ },
    { env: { HERALD_MAX_FRAMES_PER_SECOND: '-20' }, names: 'HERALD_MAX_FRAMES_PER_SECOND', says: />= 1/ },
    { env: { HERALD_MAX_FRAMES_PER_SECOND: '2.5' }, names: 'HERALD_MAX_FRAMES_PER_SECOND', says: /integer/ },
    { env: { HERALD_MAX_FRAMES_PER_SECOND: 'fast' }, names: 'HERALD_MAX_FRAMES_PER_SECOND', says: /integer/ },
    { env: { HERALD_MAX_FRAMES_PER_SECOND: '100001' }, names: 'HERALD_MAX_FRAMES_PER_SECOND', says: /<= 100000/ },
    { env: { HERALD_FRAME_BURST: '0' }, names: 'HERALD_FRAME_BURST', says: />= 1/ },
    { env: { HERALD_FRAME_BURST: '-1' }, names: 'HERALD_FRAME_BURST', says: />= 1/ },
    { env: { HERALD_FRAME_BURST: '10.5' }, names: 'HERALD_FRAME_BURST', says: /integer/ },
    { env: { HERALD_FRAME_BURST: 'lots' }, names: 'HERALD_FRAME_BURST', says: /integer/ },
    { env: { HERALD_FRAME_BURST: '1000001' }, names: 'HERALD_FRAME_BURST', says: /<= 1000000/ },
    { env: { NODE_ENV: 'production', HERALD_API_KEY: API_KEY }, names: 'HERALD_JWT_SECRET', says: /production/ },
    { env: { NODE_ENV: 'production', HERALD_JWT_SECRET: SECRET }, names: 'HERALD_API_KEY', says: /production/ },
  ];

  it.each(bad)('refuses $env with one line naming $names', ({ env, names, says }) => {
    const error = configError(env);
    expect(error.message).toMatch(/^Invalid configuration: /);
    expect(error.message).toContain(names);
    expect(error.message).not.toContain('\n');
    if (says) expect(error.message).toMatch(says);
  });

  it('names the variable in the message for a bad value, not only its path', () => {
    expect(configError({ HERALD_PORT: '70000' }).message).toBe('Invalid configuration: HERALD_PORT must be <= 65535');
    expect(configError({ HERALD_JWT_MAX_TTL_S: '0' }).message).toBe('Invalid configuration: HERALD_JWT_MAX_TTL_S must be >= 1');
    expect(configError({ HERALD_JWT_REQUIRE_EXP: 'maybe' }).message).toBe(
      'Invalid configuration: HERALD_JWT_REQUIRE_EXP must be equal to one of the allowed values (true, false)',
    );
    expect(configError({ HERALD_REPLAY_PAGE_SIZE: '5001' }).message).toBe('Invalid configuration: HERALD_REPLAY_PAGE_SIZE must be <= 5000');
    expect(configError({ HERALD_RESYNC_CONCURRENCY: '0' }).message).toBe('Invalid configuration: HERALD_RESYNC_CONCURRENCY must be >= 1');
  });

  it('is a StartupError, so start-up handles it like any other start that cannot succeed', () => {
    const error = configError({ HERALD_PORT: 'abc' });
    expect(error).toBeInstanceOf(StartupError);
    expect(error.name).toBe('ConfigError');
  });

  it("reads exactly the variables README's configuration table documents", () => {
    const readme = readFileSync(fileURLToPath(new URL('../../../../README.md', import.meta.url)), 'utf8');
    const start = readme.indexOf('\n## Configuration\n');
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const firstCells = section.split('\n').filter((line) => line.startsWith('| `')).map((line) => line.split('|')[1]!);
    const documented = firstCells.flatMap((cell) => [...cell.matchAll(/`([A-Z_]+)`/g)].map((match) => match[1]!));
    expect([...documented].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });
});

describe('the slow-consumer bound against the body limit', () => {
  const refusal = (buffered: number, body: number) =>
    `Invalid configuration: HERALD_MAX_BUFFERED_BYTES (${buffered}) must be at least HERALD_MAX_BODY_BYTES (${body}) + 1024, ` +
    'or an event published in one body could be too large to send to any tab';

  it('defaults to 1 MiB bodies under a bound of 1 MiB + 64 KiB, which leaves the frame its 1024 bytes and more', () => {
    expect(loadConfig({})).toMatchObject({ maxBodyBytes: 1_048_576, maxBufferedBytes: 1_114_112 });
    expect(1_114_112 - 1_048_576).toBeGreaterThanOrEqual(1024);
  });

  it.each([
    ['the old default bound beside the default body limit', { HERALD_MAX_BUFFERED_BYTES: '1048576' }, 1_048_576, 1_048_576],
    ['a bound 1 byte short of the body limit + 1024', { HERALD_MAX_BUFFERED_BYTES: '5119', HERALD_MAX_BODY_BYTES: '4096' }, 5119, 4096],
    ['a bound equal to the body limit', { HERALD_MAX_BUFFERED_BYTES: '4096', HERALD_MAX_BODY_BYTES: '4096' }, 4096, 4096],
    ['a bound below the body limit', { HERALD_MAX_BUFFERED_BYTES: '4096', HERALD_MAX_BODY_BYTES: '65536' }, 4096, 65_536],
    ['the smallest bound beside the default body limit', { HERALD_MAX_BUFFERED_BYTES: '1024' }, 1024, 1_048_576],
    ['the smallest of both', { HERALD_MAX_BUFFERED_BYTES: '1024', HERALD_MAX_BODY_BYTES: '1024' }, 1024, 1024],
    ['a body limit raised alone to 2 MiB', { HERALD_MAX_BODY_BYTES: '2097152' }, 1_114_112, 2_097_152],
    ['a body limit raised alone just past the default bound', { HERALD_MAX_BODY_BYTES: '1113089' }, 1_114_112, 1_113_089],
    ['both raised, the bound too little', { HERALD_MAX_BUFFERED_BYTES: '16777216', HERALD_MAX_BODY_BYTES: '16777216' }, 16_777_216, 16_777_216],
  ])('refuses %s, naming both variables and their values', (_name, env, buffered, body) => {
    const error = configError(env);
    expect(error.message).toBe(refusal(buffered, body));
    expect(error).toBeInstanceOf(StartupError);
  });

  it.each([
    ['the bound exactly the body limit + 1024', { HERALD_MAX_BUFFERED_BYTES: '5120', HERALD_MAX_BODY_BYTES: '4096' }],
    ['the smallest body limit under the smallest bound it allows', { HERALD_MAX_BUFFERED_BYTES: '2048', HERALD_MAX_BODY_BYTES: '1024' }],
    ['a small bound with a matching body limit', { HERALD_MAX_BUFFERED_BYTES: '4096', HERALD_MAX_BODY_BYTES: '3072' }],
    ['a body limit raised to the default bound less 1024', { HERALD_MAX_BODY_BYTES: '1113088' }],
    ['a bound raised alone', { HERALD_MAX_BUFFERED_BYTES: '8388608' }],
    ['both raised', { HERALD_MAX_BUFFERED_BYTES: '16778240', HERALD_MAX_BODY_BYTES: '16777216' }],
  ])('takes %s', (_name, env) => {
    const config = loadConfig(env);
    expect(config.maxBufferedBytes - config.maxBodyBytes).toBeGreaterThanOrEqual(1024);
  });

  it('leaves HERALD_MAX_MESSAGE_BYTES out: it bounds what clients send, not what a tab is sent', () => {
    expect(loadConfig({ HERALD_MAX_MESSAGE_BYTES: '16777216' })).toMatchObject({ maxMessageBytes: 16_777_216, maxBufferedBytes: 1_114_112 });
    expect(loadConfig({ HERALD_MAX_MESSAGE_BYTES: '256', HERALD_MAX_BUFFERED_BYTES: '2048', HERALD_MAX_BODY_BYTES: '1024' })).toMatchObject({
      maxMessageBytes: 256,
    });
    expect(configError({ HERALD_MAX_MESSAGE_BYTES: '256', HERALD_MAX_BUFFERED_BYTES: '2047', HERALD_MAX_BODY_BYTES: '1024' }).message).toBe(
      refusal(2047, 1024),
    );
  });
});

describe('withDevSecrets', () => {
  const dirs: string[] = [];
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-config-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('generates a JWT secret and an API key once into the data directory, then reuses them', () => {
    const dataDir = join(tempDir(), 'nested', 'data');
    const first = withDevSecrets(loadConfig({ HERALD_DATA_DIR: dataDir }));
    expect(first.created).toEqual({ jwtSecretFile: join(dataDir, 'jwt-secret'), apiKeyFile: join(dataDir, 'api-key') });
    // 32 random bytes, base64url: 43 characters.
    expect(first.config.jwtSecret).toMatch(/^[\w-]{43}$/);
    expect(first.config.apiKey).toMatch(/^[\w-]{43}$/);
    expect(first.config.jwtSecret).not.toBe(first.config.apiKey);
    expect(readFileSync(join(dataDir, 'jwt-secret'), 'utf8').trim()).toBe(first.config.jwtSecret);
    expect(readFileSync(join(dataDir, 'api-key'), 'utf8').trim()).toBe(first.config.apiKey);
    // Secrets: readable by the owner only.
    expect(statSync(join(dataDir, 'jwt-secret')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'api-key')).mode & 0o777).toBe(0o600);

    const second = withDevSecrets(loadConfig({ HERALD_DATA_DIR: dataDir }));
    expect(second.created).toEqual({});
    expect(second.config.jwtSecret).toBe(first.config.jwtSecret);
    expect(second.config.apiKey).toBe(first.config.apiKey);

    // Another data directory gets its own.
    const other = withDevSecrets(loadConfig({ HERALD_DATA_DIR: tempDir() }));
    expect(other.config.jwtSecret).not.toBe(first.config.jwtSecret);
  });

  it('keeps configured values and writes no file for them', () => {
    const dataDir = tempDir();
    const { config, created } = withDevSecrets(loadConfig({ HERALD_DATA_DIR: dataDir, HERALD_JWT_SECRET: SECRET, HERALD_API_KEY: API_KEY }));
    expect(created).toEqual({});
    expect(config).toMatchObject({ jwtSecret: SECRET, apiKey: API_KEY });
    expect(() => statSync(join(dataDir, 'jwt-secret'))).toThrow(/^ENOENT: no such file or directory/);
    expect(() => statSync(join(dataDir, 'api-key'))).toThrow(/^ENOENT: no such file or directory/);
  });

  it('generates no HS256 secret when tokens come from a JWKS endpoint', () => {
    const dataDir = tempDir();
    const { config, created } = withDevSecrets(loadConfig({ HERALD_DATA_DIR: dataDir, HERALD_JWKS_URL: 'https://auth.example.com/jwks' }));
    expect(config.jwtSecret).toBeUndefined();
    expect(created).toEqual({ apiKeyFile: join(dataDir, 'api-key') });
  });

  it('replaces a secret file that is too short to be safe', () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'jwt-secret'), 'weak\n');
    const { config, created } = withDevSecrets(loadConfig({ HERALD_DATA_DIR: dataDir, HERALD_API_KEY: API_KEY }));
    expect(created.jwtSecretFile).toBe(join(dataDir, 'jwt-secret'));
    expect(config.jwtSecret).toMatch(/^[\w-]{43}$/);
    expect(readFileSync(join(dataDir, 'jwt-secret'), 'utf8').trim()).toBe(config.jwtSecret);
  });
});
