import type { TestProject } from 'vitest/node';
import { startRedisServer } from '../helpers/redis-server.js';

/**
 * Provides `redisUrl` to every test file: HERALD_TEST_REDIS_URL when set, else a real redis-server (Debian's
 * package) started for this run on a free port, in a directory of its own, and stopped after it. Tests keep
 * apart with a key prefix of their own (HERALD_REDIS_KEY_PREFIX).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.HERALD_TEST_REDIS_URL;
  if (external !== undefined && external !== '') {
    project.provide('redisUrl', external);
    return async () => {};
  }
  const server = await startRedisServer();
  project.provide('redisUrl', server.url);
  return () => server.remove();
}
