import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/mint-token.js';
import { cleanEnv, HeraldProcess, runHerald } from '../helpers/herald-process.js';
import { httpRequest } from '../helpers/http-request.js';
import { TestClient } from '../helpers/ws-client.js';
import { HERALD_VERSION } from '../../src/version.js';
import { processSandbox } from '../helpers/process-sandbox.js';

const SECRET = 'process-test-secret-long-enough-for-hs256';
const API_KEY = 'process-test-api-key-0123456789';

describe('the herald process', () => {
  const { tempDir, running } = processSandbox('herald-process-');

  /** Starts `herald start` and resolves with its base URL once it logged that it is listening. */
  async function start(cwd: string, env: Record<string, string>): Promise<{ child: HeraldProcess; url: string }> {
    const child = new HeraldProcess(['start'], { cwd, env: cleanEnv({ HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', ...env }) });
    running.push(child);
    const line = await child.waitForLog((entry) => entry['msg'] === 'Herald is listening');
    expect(line['url']).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(line['url']).not.toMatch(/:0$/);
    expect(line['version']).toBe(HERALD_VERSION);
    return { child, url: line['url'] as string };
  }

  it('serves, stops on SIGTERM with close 1012 and exit 0, and keeps every notification across a restart', async () => {
    const cwd = tempDir();
    const env = {
      HERALD_DATA_DIR: join(cwd, 'data'),
      HERALD_JWT_SECRET: SECRET,
      HERALD_API_KEY: API_KEY,
      // The most talkative level, so that a token in any log line would show.
      HERALD_LOG_LEVEL: 'trace',
      HERALD_SHUTDOWN_TIMEOUT_MS: '5000',
    };
    const user = `proc-${Math.random().toString(36).slice(2, 10)}`;
    const token = await mintToken(SECRET, user);
    const wrongToken = await mintToken(`${SECRET}-not-this-one`, user);

    const first = await start(cwd, env);
    const wsUrl = `${first.url.replace(/^http/, 'ws')}/ws/notifications`;
    const client = await TestClient.open(wsUrl, token);
    await client.waitForType('connected');
    const refused = await TestClient.open(wsUrl, wrongToken);
    expect((await refused.closed).code).toBe(4001);
    expect((await httpRequest(first.url, '/notifications', { bearer: wrongToken })).status).toBe(401);

    const published = await httpRequest(first.url, '/publish', {
      bearer: API_KEY,
      body: { user_id: user, type: 'new_notification', payload: { title: 'survives restarts' } },
    });
    expect(published.status).toBe(200);
    const notificationId = published.body.events[0].notification_id;
    const [event] = await client.waitForSeq(1);
    expect(event).toMatchObject({ type: 'new_notification', seq: 1, payload: { id: notificationId, payload: { title: 'survives restarts' } } });

    first.child.kill('SIGTERM');
    expect((await client.closed).code).toBe(1012);
    expect(await first.child.exited).toEqual({ code: 0, signal: null });

    const second = await start(cwd, env);
    const inbox = await httpRequest(second.url, '/notifications', { bearer: token });
    expect(inbox.status).toBe(200);
    expect(inbox.body.items).toEqual([
      expect.objectContaining({ id: notificationId, status: 'unread', payload: { title: 'survives restarts' } }),
    ]);
    const resumed = await TestClient.open(`${second.url.replace(/^http/, 'ws')}/ws/notifications`, token, 0);
    const replayed = await resumed.waitForSeq(1);
    expect(replayed).toEqual([expect.objectContaining({ type: 'new_notification', seq: 1, payload: expect.objectContaining({ id: notificationId }) })]);

    second.child.kill('SIGTERM');
    expect((await resumed.closed).code).toBe(1012);
    expect(await second.child.exited).toEqual({ code: 0, signal: null });

    // Both runs logged (the check below would pass on silence), and no token or key reached their output.
    for (const run of [first.child, second.child]) {
      expect(run.stdout).toContain('Herald is listening');
      expect(run.output).toContain('shutting down');
      for (const secret of [token, wrongToken, API_KEY, SECRET]) expect(run.output).not.toContain(secret);
      // Nor any part of a token that could identify it: its signature.
      expect(run.output).not.toContain(token.split('.')[2]);
    }
  });

  it('without secrets in development, generates them into the data directory and says how to mint a token', async () => {
    const cwd = tempDir();
    const dataDir = join(cwd, 'data');
    const { child, url } = await start(cwd, { HERALD_DATA_DIR: dataDir });
    const secret = readFileSync(join(dataDir, 'jwt-secret'), 'utf8').trim();
    const apiKey = readFileSync(join(dataDir, 'api-key'), 'utf8').trim();
    await child.waitForText('herald token');
    expect(child.stdout).toContain(`generated one in ${join(dataDir, 'jwt-secret')}`);

    const user = `dev-${Math.random().toString(36).slice(2, 10)}`;
    const client = await TestClient.open(`${url.replace(/^http/, 'ws')}/ws/notifications`, await mintToken(secret, user));
    await client.waitForType('connected');
    const published = await httpRequest(url, '/publish', { bearer: apiKey, body: { user_id: user, type: 'task_update', payload: { action: 'x', task: {} } } });
    expect(published.status).toBe(200);
    await client.waitForSeq(1);

    child.kill('SIGTERM');
    expect((await client.closed).code).toBe(1012);
    expect((await child.exited).code).toBe(0);
    expect(child.output).not.toContain(secret);
    expect(child.output).not.toContain(apiKey);
  });

  it('refuses to start with invalid configuration: exit 1 and one line naming the variable', async () => {
    const cwd = tempDir();
    const result = await runHerald(['start'], {
      cwd,
      env: cleanEnv({ HERALD_DATA_DIR: join(cwd, 'data'), HERALD_PORT: '70000', HERALD_JWT_SECRET: SECRET, HERALD_API_KEY: API_KEY }),
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toEqual(['Invalid configuration: HERALD_PORT must be <= 65535']);
  });

  it.each<{ env: Record<string, string>; line: string }>([
    { env: { HERALD_JWT_MAX_TTL_S: '-1' }, line: 'Invalid configuration: HERALD_JWT_MAX_TTL_S must be >= 1' },
    { env: { HERALD_JWT_MAX_TTL_S: 'abc' }, line: 'Invalid configuration: HERALD_JWT_MAX_TTL_S must be integer' },
    {
      env: { HERALD_JWT_REQUIRE_EXP: 'maybe' },
      line: 'Invalid configuration: HERALD_JWT_REQUIRE_EXP must be equal to one of the allowed values (true, false)',
    },
  ])('refuses to start with $env: exit 1 and one line naming the variable', async ({ env, line }) => {
    const cwd = tempDir();
    const result = await runHerald(['start'], {
      cwd,
      env: cleanEnv({ HERALD_DATA_DIR: join(cwd, 'data'), HERALD_JWT_SECRET: SECRET, HERALD_API_KEY: API_KEY, ...env }),
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toEqual([line]);
  });
});
