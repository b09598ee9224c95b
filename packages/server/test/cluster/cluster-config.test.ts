import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { freePort } from '../helpers/free-port.js';
import { cleanEnv, runHerald } from '../helpers/herald-process.js';

const POSTGRES = 'postgres://u:p@db:5432/herald';

function configError(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('cluster configuration', () => {
  it('is off without HERALD_REDIS_URL, and on with it, with defaults for the other knobs', () => {
    expect(loadConfig({}).cluster).toBeUndefined();
    const config = loadConfig({ HERALD_DATABASE_URL: POSTGRES, HERALD_REDIS_URL: 'redis://:secret@cache:6380/2' });
    expect(config.cluster).toMatchObject({ redisUrl: 'redis://:secret@cache:6380/2', keyPrefix: 'herald:', presenceTtlMs: 15_000 });
    expect(config.cluster!.nodeId).toMatch(/-\d+-[0-9a-f]{6}$/);
    expect(
      loadConfig({
        HERALD_DATABASE_URL: POSTGRES,
        HERALD_REDIS_URL: 'rediss://cache:6380',
        HERALD_REDIS_KEY_PREFIX: 'prod:',
        HERALD_PRESENCE_TTL_MS: '5000',
        HERALD_NODE_ID: 'eu-1',
      }).cluster,
    ).toEqual({ redisUrl: 'rediss://cache:6380', keyPrefix: 'prod:', presenceTtlMs: 5000, nodeId: 'eu-1' });
  });

  it('refuses cluster mode on SQLite, naming both variables', () => {
    const message = configError({ HERALD_REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(message).toMatch(/HERALD_REDIS_URL/);
    expect(message).toMatch(/PostgreSQL HERALD_DATABASE_URL/);
    expect(message).not.toMatch(/\n/);
  });

  it('refuses a HERALD_REDIS_URL that is not a redis:// URL with a host', () => {
    for (const url of ['http://cache:6379', 'cache:6379', 'redis://', 'redis://cache:99999']) {
      const message = configError({ HERALD_DATABASE_URL: POSTGRES, HERALD_REDIS_URL: url });
      expect(message, url).toMatch(/HERALD_REDIS_URL/);
      expect(message).not.toMatch(/\n/);
    }
    expect(configError({ HERALD_DATABASE_URL: POSTGRES, HERALD_REDIS_URL: 'redis://c', HERALD_PRESENCE_TTL_MS: '10' })).toMatch(
      /HERALD_PRESENCE_TTL_MS/,
    );
  });
});

describe('herald start in cluster mode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-cluster-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = (extra: Record<string, string>): NodeJS.ProcessEnv =>
    cleanEnv({ HERALD_PORT: '0', HERALD_DATA_DIR: join(dir, 'data'), HERALD_LOG_LEVEL: 'warn', ...extra });

  it('exits 1 with one line when HERALD_REDIS_URL is set on SQLite', async () => {
    const result = await runHerald(['start'], { cwd: dir, env: env({ HERALD_REDIS_URL: 'redis://127.0.0.1:6379' }) });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/HERALD_REDIS_URL.*PostgreSQL/)]);
  });

  it('exits 1 with one line when HERALD_REDIS_URL is malformed', async () => {
    const result = await runHerald(['start'], { cwd: dir, env: env({ HERALD_DATABASE_URL: POSTGRES, HERALD_REDIS_URL: 'redis//cache' }) });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/HERALD_REDIS_URL/)]);
  });

  it('exits 1 naming HERALD_REDIS_URL, without its password, when no Redis answers there', async () => {
    const port = await freePort();
    const result = await runHerald(['start'], {
      cwd: dir,
      env: env({ HERALD_DATABASE_URL: inject('postgresUrl'), HERALD_REDIS_URL: `redis://:hunter2-secret@127.0.0.1:${port}` }),
      timeoutMs: 30_000,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/HERALD_REDIS_URL: Redis did not answer/);
    expect(result.stdout + result.stderr).not.toMatch(/hunter2/);
  });
});
