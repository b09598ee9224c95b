import { loadConfig, type Config } from '../../src/config.js';
import { Herald } from '../../src/gateway.js';
import { mintToken } from '../../src/auth/mint-token.js';
import { createLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/create-store.js';
import type { Store } from '../../src/store/store.js';
import { dropDatabase, freshDatabaseUrl, type DatabaseKind } from './databases.js';

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256!';
export const TEST_API_KEY = 'test-api-key-0123456789';

export interface TestGateway {
  herald: Herald;
  config: Config;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  /** ws://127.0.0.1:<port>/ws/notifications */
  wsUrl: string;
  databaseUrl: string;
  token(userId: string, ttl?: string): Promise<string>;
  /** POST /publish with the API key; returns the parsed response. */
  publish(body: unknown): Promise<{ status: number; body: any }>;
  /** A request as user `userId` (a fresh token each time). */
  asUser(userId: string, path: string, init?: { method?: string; body?: unknown }): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Extra HERALD_* variables, e.g. { HERALD_PING_INTERVAL_MS: '50' }. */
  env?: Record<string, string>;
  /** Reuse a database (e.g. to restart on the same data); a fresh one otherwise, dropped on close. */
  databaseUrl?: string;
  /** Wraps the real store, e.g. to hold a read at the Store seam and force a race. */
  wrapStore?: (store: Store) => Store;
}

/** Starts a real gateway on 127.0.0.1, port 0, on a fresh database of the given kind. */
export async function startGateway(kind: DatabaseKind, options: StartOptions = {}): Promise<TestGateway> {
  const ownsDatabase = options.databaseUrl === undefined;
  const databaseUrl = options.databaseUrl ?? (await freshDatabaseUrl(kind));
  const config = loadConfig({
    HERALD_HOST: '127.0.0.1',
    HERALD_PORT: '0',
    HERALD_DATABASE_URL: databaseUrl,
    HERALD_JWT_SECRET: TEST_SECRET,
    HERALD_API_KEY: TEST_API_KEY,
    HERALD_LOG_LEVEL: process.env['HERALD_TEST_LOG_LEVEL'] ?? 'silent',
    HERALD_SHUTDOWN_TIMEOUT_MS: '2000',
    ...options.env,
  });
  const store = options.wrapStore?.(createStore(databaseUrl));
  const herald = await Herald.create({ config, store, logger: createLogger(config.logLevel) });
  const address = await herald.listen();
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const request = async (path: string, init: { method?: string; body?: unknown; bearer?: string }) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: {
        ...(init.bearer && { authorization: `Bearer ${init.bearer}` }),
        ...(init.body !== undefined && { 'content-type': 'application/json' }),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON (metrics): the text is the body.
    }
    return { status: response.status, body };
  };
  return {
    herald,
    config,
    baseUrl,
    wsUrl: `ws://127.0.0.1:${address.port}/ws/notifications`,
    databaseUrl,
    token: (userId, ttl) => mintToken(TEST_SECRET, userId, ttl),
    publish: (body) => request('/publish', { body, bearer: TEST_API_KEY }),
    asUser: async (userId, path, init = {}) => request(path, { ...init, bearer: await mintToken(TEST_SECRET, userId) }),
    close: async () => {
      await herald.close();
      if (ownsDatabase) await dropDatabase(databaseUrl);
    },
  };
}

/** A user id no other test uses. */
export function uniqueUser(prefix = 'user'): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}
