import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, uniqueUser, type TestGateway } from './helpers/gateway.js';
import { TestClient } from './helpers/ws-client.js';

const ISSUER = 'https://auth.example.test';
const AUDIENCE = 'herald';
const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;

interface SigningKey {
  alg: string;
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

/** A real JWKS endpoint on loopback, as an identity provider (e.g. Better Auth) serves it. */
async function serveJwks(keys: JWK[]): Promise<{ url: string; server: Server }> {
  const server = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`, server };
}

function sign(key: SigningKey, claims: { sub?: string; iss?: string; aud?: string }): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: key.alg, kid: key.kid }).setIssuedAt().setExpirationTime('5m');
  if (claims.sub) jwt.setSubject(claims.sub);
  if (claims.iss) jwt.setIssuer(claims.iss);
  if (claims.aud) jwt.setAudience(claims.aud);
  return jwt.sign(key.privateKey);
}

describe('tokens from a JWKS endpoint', () => {
  let gateway: TestGateway;
  let jwks: Server;
  const keys: SigningKey[] = [];

  beforeAll(async () => {
    for (const alg of ALGORITHMS) {
      const pair = await generateKeyPair(alg, { extractable: true });
      keys.push({ alg, kid: `${alg}-key`, ...pair });
    }
    const published = await Promise.all(keys.map(async (key) => ({ ...(await exportJWK(key.publicKey)), kid: key.kid, alg: key.alg })));
    const served = await serveJwks(published);
    jwks = served.server;
    gateway = await startGateway('sqlite', {
      env: { HERALD_JWKS_URL: served.url, HERALD_JWT_ISSUER: ISSUER, HERALD_JWT_AUDIENCE: AUDIENCE, HERALD_JWT_SECRET: '' },
    });
  });
  afterAll(async () => {
    await gateway.close();
    jwks.close();
  });

  it.each(ALGORITHMS)('accepts a %s token on the socket and the REST API', async (alg) => {
    const key = keys.find((candidate) => candidate.alg === alg)!;
    const user = uniqueUser(alg);
    const token = await sign(key, { sub: user, iss: ISSUER, aud: AUDIENCE });
    const client = await TestClient.open(gateway.wsUrl, token);
    const [connected] = await client.waitForType('connected');
    expect(connected?.payload.user_id).toBe(user);
    const response = await fetch(`${gateway.baseUrl}/notifications/unread-count`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    await client.close();
  });

  it.each([
    ['a wrong issuer', { iss: 'https://evil.example.test', aud: AUDIENCE }],
    ['a wrong audience', { iss: ISSUER, aud: 'someone-else' }],
    ['no issuer', { aud: AUDIENCE }],
  ])('refuses a token with %s', async (_case, claims) => {
    const token = await sign(keys[0]!, { sub: uniqueUser(), ...claims });
    const client = await TestClient.open(gateway.wsUrl, token);
    expect(await client.closed).toEqual({ code: 4001, reason: 'Unauthorized' });
    const response = await fetch(`${gateway.baseUrl}/notifications`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(401);
  });

  it('refuses an HS256 token signed with the public key (algorithm confusion)', async () => {
    const rsa = keys.find((key) => key.alg === 'RS256')!;
    const publicPem = await exportSPKI(rsa.publicKey);
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: rsa.kid })
      .setSubject(uniqueUser('forged'))
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(publicPem));
    const client = await TestClient.open(gateway.wsUrl, forged);
    expect(await client.closed).toEqual({ code: 4001, reason: 'Unauthorized' });
  });

  it('refuses a token signed by a key the JWKS does not hold', async () => {
    const stranger = await generateKeyPair('ES256');
    const token = await sign({ alg: 'ES256', kid: 'ES256-key', ...stranger }, { sub: uniqueUser(), iss: ISSUER, aud: AUDIENCE });
    const client = await TestClient.open(gateway.wsUrl, token);
    expect(await client.closed).toEqual({ code: 4001, reason: 'Unauthorized' });
  });
});
