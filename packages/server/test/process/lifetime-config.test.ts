import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/mint-token.js';
import { loadConfig } from '../../src/config.js';
import { configError } from '../helpers/config-error.js';
import { cleanEnv, HeraldProcess, startHerald } from '../helpers/herald-process.js';
import { httpRequest } from '../helpers/http-request.js';
import { processSandbox } from '../helpers/process-sandbox.js';

const SECRET = 'lifetime-config-secret-long-enough-for-hs256';
const API_KEY = 'lifetime-config-api-key-0123456789';

/** Each variable with its bounds, and the values of every class it refuses. */
const VARIABLES = [
  { name: 'HERALD_RETENTION_DAYS', field: 'retentionDays', min: 1, max: 36_500, fallback: 90 },
  { name: 'HERALD_MAX_NOTIFICATIONS_PER_USER', field: 'maxNotificationsPerUser', min: 1, max: 1_000_000, fallback: 10_000 },
] as const;

const refused = VARIABLES.flatMap(({ name, max }) => [
  { name, value: '0', says: 'must be >= 1' },
  { name, value: '-1', says: 'must be >= 1' },
  { name, value: '-90', says: 'must be >= 1' },
  { name, value: '1.5', says: 'must be integer' },
  { name, value: '90.0001', says: 'must be integer' },
  { name, value: 'ninety', says: 'must be integer' },
  { name, value: '90 days', says: 'must be integer' },
  { name, value: '1e3x', says: 'must be integer' },
  { name, value: String(max + 1), says: `must be <= ${max}` },
  { name, value: '99999999999999999999', says: `must be <= ${max}` },
]);

describe('HERALD_RETENTION_DAYS and HERALD_MAX_NOTIFICATIONS_PER_USER', () => {
  it.each(refused)('refuses $name=$value in one line that names it', ({ name, value, says }) => {
    expect(configError({ [name]: value }).message).toBe(`Invalid configuration: ${name} ${says}`);
  });

  it.each(VARIABLES)('$name defaults to $fallback and takes every whole number from $min to $max', ({ name, field, min, max, fallback }) => {
    expect(loadConfig({})[field]).toBe(fallback);
    for (const value of [min, min + 1, 30, 365, max - 1, max]) expect(loadConfig({ [name]: String(value) })[field]).toBe(value);
    // Each is read on its own: setting one leaves the other at its default.
    const other = VARIABLES.find((variable) => variable.name !== name)!;
    expect(loadConfig({ [name]: String(max) })[other.field]).toBe(other.fallback);
  });
});

describe('the herald process with HERALD_RETENTION_DAYS and HERALD_MAX_NOTIFICATIONS_PER_USER', () => {
  const { tempDir, running } = processSandbox('herald-lifetime-');
  const base = { HERALD_JWT_SECRET: SECRET, HERALD_API_KEY: API_KEY, HERALD_LOG_LEVEL: 'info' };

  it.each([
    ['HERALD_RETENTION_DAYS', '0'],
    ['HERALD_MAX_NOTIFICATIONS_PER_USER', 'lots'],
  ])('does not start with %s=%s: exit 1, one line naming it, no database made', async (name, value) => {
    const dir = tempDir();
    const child = new HeraldProcess(['start'], {
      cwd: dir,
      env: cleanEnv({ HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_DATA_DIR: join(dir, 'data'), ...base, [name]: value }),
    });
    running.push(child);
    expect((await child.exited).code).toBe(1);
    expect(child.output).toContain(`Invalid configuration: ${name} must be`);
    expect(child.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(child.output).not.toContain('Herald is listening');
    expect(existsSync(join(dir, 'data', 'herald.db'))).toBe(false);
  });

  it('starts with good values and keeps each inbox to HERALD_MAX_NOTIFICATIONS_PER_USER', async () => {
    const dir = tempDir();
    const { child, url } = await startHerald(dir, { ...base, HERALD_RETENTION_DAYS: '7', HERALD_MAX_NOTIFICATIONS_PER_USER: '2' });
    running.push(child);
    const user = 'limited-user';
    const items = ['a', 'b', 'c'].map((title) => ({ user_id: user, type: 'new_notification', payload: { title } }));
    expect((await httpRequest(url, '/publish', { bearer: API_KEY, body: items })).body.stored).toBe(3);
    const inbox = await httpRequest(url, '/notifications', { bearer: await mintToken(SECRET, user) });
    expect(inbox.body.items.map((item: { payload: { title: string } }) => item.payload.title)).toEqual(['c', 'b']);
  });
});
