import * as crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiKeyMatches } from '../../src/auth/api-key.js';
import { startGateway, TEST_API_KEY, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { rawConnection } from '../helpers/raw-http.js';

// The real timingSafeEqual, watched: what the constant-time comparison is handed is behaviour one can observe.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

/** POST /publish with `Authorization: Bearer ` and then `key` as raw bytes (UTF-8), which fetch would not send. */
async function publishWithKey(baseUrl: string, key: string, body: string): Promise<{ status: number; body: unknown }> {
  const connection = await rawConnection(baseUrl);
  connection.socket.write(
    Buffer.concat([
      Buffer.from('POST /publish HTTP/1.1\r\nHost: herald\r\nConnection: close\r\nContent-Type: application/json\r\n'),
      Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\nAuthorization: Bearer `),
      Buffer.from(key, 'utf8'),
      Buffer.from(`\r\n\r\n${body}`),
    ]),
  );
  await connection.closed;
  const response = connection.received();
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(response)?.[1]);
  return { status, body: JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) };
}

describe('the publish key over HTTP', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway('sqlite');
  });
  afterAll(() => gateway.close());

  const key = TEST_API_KEY;
  const wrongKeys: Array<[string, string]> = [
    ['empty', ''],
    ['one character', 'x'],
    ['its first character', key.slice(0, 1)],
    ['one character short', key.slice(0, -1)],
    ['half of it', key.slice(0, key.length / 2)],
    ['same length, first character differs', `X${key.slice(1)}`],
    ['same length, last character differs', `${key.slice(0, -1)}X`],
    ['the key plus a suffix', `${key}x`],
    ['the key twice', key.repeat(2)],
    ['the key after a prefix', `x${key}`],
    ['10 KB', 'k'.repeat(10 * 1024)],
    ['the key padded to 10 KB', key.padEnd(10 * 1024, 'k')],
    ['the key with its last character non-ASCII', `${key.slice(0, -1)}é`],
    ['the key plus a non-ASCII suffix', `${key}€`],
    ['the key in upper case', key.toUpperCase()],
  ];

  it('refuses every wrong key with 401 and stores nothing, and accepts the right one', async () => {
    const user = uniqueUser('publish-key');
    const body = JSON.stringify({ user_id: user, type: 'new_notification', payload: { n: 1 } });
    for (const [name, wrong] of wrongKeys) {
      expect(wrong).not.toBe(key);
      const response = await publishWithKey(gateway.baseUrl, wrong, body);
      expect({ name, ...response }).toEqual({
        name,
        status: 401,
        body: { error: 'unauthorized', message: 'A valid HERALD_API_KEY is required as Bearer token' },
      });
    }
    expect((await gateway.asUser(user, '/notifications')).body.items).toEqual([]);

    const right = await publishWithKey(gateway.baseUrl, key, body);
    expect(right).toEqual({ status: 200, body: expect.objectContaining({ accepted: 1, stored: 1 }) });
    expect((await gateway.asUser(user, '/notifications')).body.items).toHaveLength(1);
  });
});

describe('the publish key comparison', () => {
  const timingSafeEqual = vi.mocked(crypto.timingSafeEqual);

  const key = 'publish-key-0123456789abcdef';

  it('matches only the exact key: not a prefix, an extension, another case or an empty string', () => {
    expect(apiKeyMatches(key, key)).toBe(true);
    for (const presented of [key.slice(0, -1), `${key}x`, key.toUpperCase(), '', undefined, 'x'.repeat(10_000)]) {
      expect(apiKeyMatches(key, presented)).toBe(false);
    }
  });

  it('hands the constant-time comparison two 32-byte digests, whatever the length of the guess', () => {
    for (const presented of ['', 'x', key.slice(0, -1), key, `${key}x`, 'x'.repeat(10_000), `${key}é`]) {
      timingSafeEqual.mockClear();
      expect(apiKeyMatches(key, presented)).toBe(presented === key);
      // Once for every guess, short or long: no length check that answers early (and so shows the length).
      expect(timingSafeEqual).toHaveBeenCalledTimes(1);
      const [a, b] = timingSafeEqual.mock.calls[0]!;
      expect({ presented: presented.length, a: a.byteLength, b: b.byteLength }).toEqual({ presented: presented.length, a: 32, b: 32 });
    }
  });
});
