import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

// A cluster node whose Redis cannot be used at start-up: startCluster rejects with a StartupError naming
// HERALD_REDIS_URL (never its password), and closes what it opened, so that the failed start does not keep the
// process alive. Each start runs in a child process (start-cluster-child.ts) that must end by itself.

const CHILD = fileURLToPath(new URL('./start-cluster-child.ts', import.meta.url));
const SERVER_DIR = fileURLToPath(new URL('../..', import.meta.url));
/** start-up gives up after ten attempts 200 ms apart; the rest is loading TypeScript on a busy machine. */
const MUST_END_WITHIN_MS = 15_000;

interface Outcome {
  started: boolean;
  startupError?: boolean;
  name?: string;
  message?: string;
}

/** Runs the child against `redisUrl`; rejects when it has not ended by itself in time (it is then killed). */
async function startInChild(redisUrl: string): Promise<Outcome> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, redisUrl], { cwd: SERVER_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let timer: NodeJS.Timeout | undefined;
  const ended = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stuck = new Promise<'stuck'>((resolve) => (timer = setTimeout(() => resolve('stuck'), MUST_END_WITHIN_MS)));
  const result = await Promise.race([ended, stuck]).finally(() => clearTimeout(timer));
  if (result === 'stuck') {
    child.kill('SIGKILL');
    throw new Error(`the process was still alive ${MUST_END_WITHIN_MS} ms after a failed start; it printed: ${stdout}${stderr}`);
  }
  expect(result, stderr).toBe(0);
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Outcome;
}

function expectRedisStartupError(outcome: Outcome, secret?: string): void {
  expect(outcome).toMatchObject({ started: false, startupError: true, name: 'StartupError' });
  expect(outcome.message).toMatch(/^HERALD_REDIS_URL: /);
  if (secret !== undefined) expect(outcome.message).not.toContain(secret);
}

describe('a cluster node whose Redis cannot be used at start-up', () => {
  let redis: RedisServer | undefined;
  afterEach(async () => {
    await redis?.remove();
    redis = undefined;
  });

  it('fails with a StartupError and ends when nothing listens on the Redis port', async () => {
    const port = await freePort();
    const outcome = await startInChild(`redis://:port-secret@127.0.0.1:${port}`);
    expectRedisStartupError(outcome, 'port-secret');
    expect(outcome.message).toContain('ECONNREFUSED');
  }, 30_000);

  it('fails with a StartupError and ends when Redis refuses the password', async () => {
    redis = await startRedisServer({ args: ['--requirepass', 'the-right-one'] });
    const wrong = redis.url.replace('redis://', 'redis://default:a-wrong-password@');
    const outcome = await startInChild(wrong);
    expectRedisStartupError(outcome, 'a-wrong-password');
    expect(outcome.message).toContain('WRONGPASS');

    expectRedisStartupError(await startInChild(redis.url));
  }, 45_000);

  it('closes the connection that got in when Redis takes only one of the two', async () => {
    // One client slot: one of the node's two connections is admitted, the other is turned away on every attempt.
    redis = await startRedisServer({ args: ['--maxclients', '1'] });
    const outcome = await startInChild(redis.url);
    expectRedisStartupError(outcome);
    expect(outcome.message).toContain('max number of clients');
  }, 30_000);

  it('starts when Redis is there (the child is not what fails)', async () => {
    redis = await startRedisServer();
    expect(await startInChild(redis.url)).toEqual({ started: true });
  }, 30_000);
});
