import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, runHerald } from '../helpers/herald-process.js';

const SECRET = 'cli-test-secret-that-is-long-enough-for-hs256';

// Each run starts a Node process (about a second of CPU), so the tests run side by side and are few: the
// configuration rules themselves are covered in config.test.ts.
describe.concurrent('the herald command', () => {
  const dirs: string[] = [];
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-cli-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const herald = (args: string[], env: Record<string, string>) => {
    const cwd = tempDir();
    return runHerald(args, { env: cleanEnv({ HERALD_DATA_DIR: join(cwd, 'data'), ...env }), cwd });
  };

  it('prints a token for the user, signed with HERALD_JWT_SECRET, valid for the --ttl', async () => {
    const before = Math.floor(Date.now() / 1000);
    const result = await herald(['token', 'alice', '--ttl', '5m'], { HERALD_JWT_SECRET: SECRET });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const token = result.stdout.trim();
    expect(result.stdout).toBe(`${token}\n`);
    expect(decodeProtectedHeader(token).alg).toBe('HS256');
    const { payload } = await jwtVerify(token, new TextEncoder().encode(SECRET), { algorithms: ['HS256'] });
    expect(payload.sub).toBe('alice');
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(payload.iat).toBeGreaterThanOrEqual(before - 1);
    expect(payload.iat).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 1);
    // Signed with that secret and no other.
    await expect(jwtVerify(token, new TextEncoder().encode(`${SECRET}-other`))).rejects.toThrow(errors.JWSSignatureVerificationFailed);
  });

  it('refuses a --ttl longer than HERALD_JWT_MAX_TTL_S, since Herald would refuse the token, and signs one of exactly that', async () => {
    const env = { HERALD_JWT_SECRET: SECRET, HERALD_JWT_MAX_TTL_S: '3600' };
    const [over, atLimit] = await Promise.all([herald(['token', 'alice', '--ttl', '61m'], env), herald(['token', 'alice', '--ttl', '1h'], env)]);
    expect(over).toMatchObject({
      code: 1,
      stdout: '',
      stderr: '--ttl 61m is longer than HERALD_JWT_MAX_TTL_S (3600 s), so Herald would refuse the token\n',
    });
    expect(atLimit).toMatchObject({ code: 0, stderr: '' });
    const { payload } = await jwtVerify(atLimit.stdout.trim(), new TextEncoder().encode(SECRET), { algorithms: ['HS256'] });
    expect(payload.exp! - payload.iat!).toBe(3600);
  });

  it('without a secret, generates one into the data directory once and signs with it', async () => {
    const cwd = tempDir();
    const dataDir = join(cwd, 'data');
    const env = cleanEnv({ HERALD_DATA_DIR: dataDir });
    const first = await runHerald(['token', 'carol'], { env, cwd });
    expect(first.code).toBe(0);
    const secret = readFileSync(join(dataDir, 'jwt-secret'), 'utf8').trim();
    // 32 random bytes, base64url: 43 characters.
    expect(secret).toMatch(/^[\w-]{43}$/);
    const { payload } = await jwtVerify(first.stdout.trim(), new TextEncoder().encode(secret));
    expect(payload.sub).toBe('carol');

    // A second run reuses the file: tokens minted earlier stay valid.
    const second = await runHerald(['token', 'dave'], { env, cwd });
    expect(second.code).toBe(0);
    expect(readFileSync(join(dataDir, 'jwt-secret'), 'utf8').trim()).toBe(secret);
    expect((await jwtVerify(second.stdout.trim(), new TextEncoder().encode(secret))).payload.sub).toBe('dave');
  });

  it('in production, signs with HERALD_JWT_SECRET alone: no publish key needed, nothing written', async () => {
    const cwd = tempDir();
    const dataDir = join(cwd, 'data');
    const env = cleanEnv({ NODE_ENV: 'production', HERALD_JWT_SECRET: SECRET, HERALD_DATA_DIR: dataDir });
    const result = await runHerald(['token', 'alice'], { env, cwd });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const { payload } = await jwtVerify(result.stdout.trim(), new TextEncoder().encode(SECRET), { algorithms: ['HS256'] });
    expect(payload).toMatchObject({ sub: 'alice' });
    expect(payload.exp! - payload.iat!).toBe(3600);
    // No generated publish key (nor anything else) in production.
    expect(existsSync(dataDir) ? readdirSync(dataDir) : []).toEqual([]);
  });

  it('in production without HERALD_JWT_SECRET, refuses rather than sign with a generated secret Herald would not use', async () => {
    const cwd = tempDir();
    const dataDir = join(cwd, 'data');
    const env = cleanEnv({ NODE_ENV: 'production', HERALD_API_KEY: 'a-publish-key-of-some-length', HERALD_DATA_DIR: dataDir });
    const result = await runHerald(['token', 'alice'], { env, cwd });
    expect(result).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'herald token needs HERALD_JWT_SECRET when NODE_ENV=production, the secret Herald checks tokens with\n',
    });
    expect(existsSync(join(dataDir, 'jwt-secret'))).toBe(false);
  });

  it('refuses to sign when tokens are verified from HERALD_JWKS_URL only, in production or not', async () => {
    const jwks = { HERALD_JWKS_URL: 'https://issuer.example/.well-known/jwks.json' };
    const [development, production] = await Promise.all([
      herald(['token', 'alice'], jwks),
      herald(['token', 'alice'], { ...jwks, NODE_ENV: 'production' }),
    ]);
    for (const result of [development, production]) {
      expect(result).toMatchObject({
        code: 1,
        stdout: '',
        stderr: 'herald token signs with HERALD_JWT_SECRET; this configuration verifies tokens from HERALD_JWKS_URL instead\n',
      });
    }
  });

  it.each([
    { ttl: '1s', seconds: 1 },
    { ttl: '90s', seconds: 90 },
    { ttl: '2h', seconds: 7200 },
    { ttl: '3650d', seconds: 3650 * 86_400 },
  ])('signs a token of --ttl $ttl: exp is $seconds s after iat', async ({ ttl, seconds }) => {
    const result = await herald(['token', 'alice', `--ttl=${ttl}`], { HERALD_JWT_SECRET: SECRET });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const token = result.stdout.trim();
    // Verified as of its own issue time: a 1 s token may have expired by the time a slow start has printed it.
    const issuedAt = decodeJwt(token).iat!;
    const { payload } = await jwtVerify(token, new TextEncoder().encode(SECRET), { algorithms: ['HS256'], currentDate: new Date(issuedAt * 1000) });
    expect(payload.exp! - payload.iat!).toBe(seconds);
  });

  it('takes a user id that starts with "-" after "--"', async () => {
    const result = await herald(['token', '--ttl', '5m', '--', '-alice'], { HERALD_JWT_SECRET: SECRET });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect((await jwtVerify(result.stdout.trim(), new TextEncoder().encode(SECRET))).payload.sub).toBe('-alice');
  });

  it.each([
    { name: 'a user id over 255 characters', id: 'u'.repeat(256), shown: 'u'.repeat(256) },
    { name: 'a tab in the user id', id: 'a\tb', shown: 'a\\tb' },
    { name: 'an escape character in the user id', id: 'a\u001bb', shown: 'a\\u001bb' },
  ])('refuses to mint a token the gateway would refuse: $name', async ({ id, shown }) => {
    const result = await herald(['token', id], { HERALD_JWT_SECRET: SECRET });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`"${shown}" is not a user id: 1 to 255 characters, no control character\nRun \`herald token --help\` for usage.\n`);
  });

  it('mints a token for a user id of exactly 255 characters, emoji counted as one', async () => {
    const id = '🙂'.repeat(255);
    const result = await herald(['token', id], { HERALD_JWT_SECRET: SECRET });
    expect(result.code).toBe(0);
    expect((await jwtVerify(result.stdout.trim(), new TextEncoder().encode(SECRET))).payload.sub).toBe(id);
  });

  it.each<{ env: Record<string, string>; names: string }>([
    { env: { HERALD_JWT_SECRET: 'too-short' }, names: 'HERALD_JWT_SECRET' },
    { env: { HERALD_JWT_SECRET: SECRET, HERALD_PORT: 'abc' }, names: 'HERALD_PORT' },
    { env: { HERALD_JWT_SECRET: SECRET, HERALD_JWT_MAX_TTL_S: 'abc' }, names: 'HERALD_JWT_MAX_TTL_S' },
    { env: { HERALD_JWT_SECRET: SECRET, HERALD_JWT_REQUIRE_EXP: 'maybe' }, names: 'HERALD_JWT_REQUIRE_EXP' },
  ])('exits 1 with one line naming $names for bad configuration', async ({ env, names }) => {
    const result = await herald(['token', 'alice'], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid configuration: /);
    expect(lines[0]).toContain(names);
  });
});
