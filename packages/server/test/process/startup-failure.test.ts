import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Herald, loadConfig, type Config } from '../../src/index.js';
import { StartupError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/create-store.js';
import type { Store } from '../../src/store/store.js';

const SECRET = 'startup-failure-secret-long-enough-for-hs256';
const logger = createLogger('silent');

/** The files this process holds open under `dir` (Linux: /proc/self/fd). */
function openFilesUnder(dir: string): string[] {
  const open: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir)) open.push(target);
    } catch {
      // The fd of the directory listing itself is gone by the time it is read.
    }
  }
  return open;
}

/** A port on loopback where nothing listens: bound once, then released. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('a Herald.create that fails closes everything it opened', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const dataDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-startup-'));
    dirs.push(dir);
    return dir;
  };
  const configFor = (dir: string, env: Record<string, string> = {}): Config =>
    loadConfig({ HERALD_DATA_DIR: dir, HERALD_JWT_SECRET: SECRET, HERALD_API_KEY: 'startup-failure-api-key', HERALD_LOG_LEVEL: 'silent', ...env });

  it('without a publish key it refuses before opening anything: no database file is created', async () => {
    const dir = dataDir();
    const config = { ...configFor(dir), apiKey: undefined };
    const failure = await Herald.create({ config, logger }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StartupError);
    expect((failure as Error).message).toBe('HERALD_API_KEY is required to serve the publish API');
    expect(existsSync(join(dir, 'herald.db'))).toBe(false);
    expect(openFilesUnder(dir)).toEqual([]);
  });

  it('when Redis does not answer after the SQLite store was migrated, the database file, its WAL and shared memory are closed', async () => {
    const dir = dataDir();
    const port = await deadPort();
    const config: Config = {
      ...configFor(dir),
      // Cluster mode needs PostgreSQL by configuration; given directly, it makes Redis the step that fails.
      cluster: { redisUrl: `redis://127.0.0.1:${port}`, keyPrefix: 'herald-startup:', presenceTtlMs: 3000, nodeId: 'startup-test' },
    };
    const failure = await Herald.create({ config, logger }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StartupError);
    expect((failure as Error).message).toContain('HERALD_REDIS_URL');
    // The store was opened and migrated before Redis was tried.
    expect(existsSync(join(dir, 'herald.db'))).toBe(true);
    expect(openFilesUnder(dir)).toEqual([]);
  });

  it('a store that fails to migrate is closed, and the error is the store’s', async () => {
    const dir = dataDir();
    const real = createStore(join(dir, 'herald.db'));
    const calls: string[] = [];
    const failing: Store = Object.assign(Object.create(real) as Store, {
      migrate: async () => {
        calls.push('migrate');
        throw new Error('migration 0002 failed');
      },
      close: async () => {
        calls.push('close');
        await real.close();
      },
    });
    const failure = await Herald.create({ config: configFor(dir), store: failing, logger }).catch((error: unknown) => error);
    expect((failure as Error).message).toBe('migration 0002 failed');
    expect(calls).toEqual(['migrate', 'close']);
    expect(openFilesUnder(dir)).toEqual([]);
  });

  it('close() after a good start leaves no file open either', async () => {
    const dir = dataDir();
    const herald = await Herald.create({ config: configFor(dir), logger });
    expect(openFilesUnder(dir).length).toBeGreaterThan(0);
    await herald.close();
    expect(openFilesUnder(dir)).toEqual([]);
  });
});
