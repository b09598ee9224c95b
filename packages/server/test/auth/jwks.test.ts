import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublicKey } from 'node:crypto';
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, TEST_SECRET, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { TestClient } from '../helpers/ws-client.js';

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
});

/**
 * Algorithm confusion with both key sources configured, so that the binding of each algorithm family to its own
 * source is what stands between a forged token and the inbox: a public key used as an HMAC secret, a key the set
 * does not hold, and a key of the set used with another algorithm than its own.
 */
describe('algorithm confusion, with both HERALD_JWT_SECRET and HERALD_JWKS_URL set', () => {
  let gateway: TestGateway;
  let jwks: Server;
  let rsa: SigningKey;
  let ec: SigningKey;
  let rsaJwk: JWK;
  let ecJwk: JWK;
  let rsaPem: string;
  let ecPem: string;
  let rsaPkcs8: string;
  let strangerRsa: CryptoKey;
  let strangerEc: CryptoKey;

  beforeAll(async () => {
    rsa = { alg: 'RS256', kid: 'rsa-key', ...(await generateKeyPair('RS256', { extractable: true })) };
    ec = { alg: 'ES256', kid: 'ec-key', ...(await generateKeyPair('ES256', { extractable: true })) };
    rsaJwk = { ...(await exportJWK(rsa.publicKey)), kid: rsa.kid, alg: rsa.alg, use: 'sig' };
    ecJwk = { ...(await exportJWK(ec.publicKey)), kid: ec.kid, alg: ec.alg, use: 'sig' };
    rsaPem = await exportSPKI(rsa.publicKey);
    ecPem = await exportSPKI(ec.publicKey);
    rsaPkcs8 = await exportPKCS8(rsa.privateKey);
    strangerRsa = (await generateKeyPair('RS256')).privateKey;
    strangerEc = (await generateKeyPair('ES256')).privateKey;
    const served = await serveJwks([rsaJwk, ecJwk]);
    jwks = served.server;
    // startGateway sets HERALD_JWT_SECRET (TEST_SECRET): both sources are live.
    gateway = await startGateway('sqlite', { env: { HERALD_JWKS_URL: served.url } });
  });
  afterAll(async () => {
    await gateway.close();
    jwks.close();
  });

  const forge = (alg: string, key: CryptoKey | Uint8Array, user: string, kid?: string) =>
    new SignJWT({})
      .setProtectedHeader({ alg, typ: 'JWT', ...(kid !== undefined && { kid }) })
      .setSubject(user)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);
  const bytes = (text: string) => new TextEncoder().encode(text);
  const der = (pem: string, type: 'spki' | 'pkcs1') => new Uint8Array(createPublicKey(pem).export({ type, format: 'der' }));
  /** The RSA key of the set, imported for another RSA algorithm than the RS256 it is published for. */
  const rsaAs = (alg: string) => importPKCS8(rsaPkcs8, alg);

  const restStatus = async (token: string) =>
    (await fetch(`${gateway.baseUrl}/notifications/unread-count`, { headers: { authorization: `Bearer ${token}` } })).status;

  const accepted: Array<[string, (user: string) => Promise<string>]> = [
    ['HS256 with the shared secret', (user) => forge('HS256', bytes(TEST_SECRET), user)],
    ['RS256 with the key of the set, by kid', (user) => forge('RS256', rsa.privateKey, user, rsa.kid)],
    ['ES256 with the key of the set, by kid', (user) => forge('ES256', ec.privateKey, user, ec.kid)],
  ];

  it.each(accepted)('accepts %s on the socket and the REST API (the setup works)', async (_name, make) => {
    const user = uniqueUser('genuine');
    const token = await make(user);
    const client = await TestClient.open(gateway.wsUrl, token);
    const [connected] = await client.waitForType('connected');
    expect(connected?.payload.user_id).toBe(user);
    await client.close();
    expect(await restStatus(token)).toBe(200);
  });

  const refused: Array<[string, (user: string) => Promise<string>]> = [
    // An HMAC secret an attacker can know: the public key, in each form it is published or exported.
    ['HS256 keyed with the RSA PEM (as jose exports it), kid of that key', (user) => forge('HS256', bytes(rsaPem), user, rsa.kid)],
    ['HS256 keyed with the RSA PEM, no kid', (user) => forge('HS256', bytes(rsaPem), user)],
    ['HS256 keyed with the RSA PEM and a final newline, as openssl writes it', (user) => forge('HS256', bytes(`${rsaPem}\n`), user, rsa.kid)],
    ['HS256 keyed with the RSA JWK JSON as served', (user) => forge('HS256', bytes(JSON.stringify(rsaJwk)), user, rsa.kid)],
    ['HS256 keyed with the RSA JWK JSON, no kid', (user) => forge('HS256', bytes(JSON.stringify(rsaJwk)), user)],
    [
      'HS256 keyed with the bare RSA JWK {e, kty, n}',
      (user) => forge('HS256', bytes(JSON.stringify({ e: rsaJwk.e, kty: rsaJwk.kty, n: rsaJwk.n })), user, rsa.kid),
    ],
    ['HS256 keyed with the RSA SPKI DER', (user) => forge('HS256', der(rsaPem, 'spki'), user, rsa.kid)],
    ['HS256 keyed with the RSA SPKI DER, no kid', (user) => forge('HS256', der(rsaPem, 'spki'), user)],
    ['HS256 keyed with the RSA PKCS#1 DER', (user) => forge('HS256', der(rsaPem, 'pkcs1'), user, rsa.kid)],
    ['HS256 keyed with the EC PEM', (user) => forge('HS256', bytes(ecPem), user, ec.kid)],
    ['HS256 keyed with the EC JWK JSON as served', (user) => forge('HS256', bytes(JSON.stringify(ecJwk)), user, ec.kid)],
    ['HS256 keyed with the EC SPKI DER', (user) => forge('HS256', der(ecPem, 'spki'), user, ec.kid)],
    ['HS384 keyed with the RSA PEM', (user) => forge('HS384', bytes(rsaPem), user, rsa.kid)],
    ['HS512 keyed with the RSA PEM', (user) => forge('HS512', bytes(rsaPem), user, rsa.kid)],
    // A key the set does not hold, with no kid, an unknown kid, or the kid of a key that is in the set.
    ['RS256 by a stranger key, no kid', (user) => forge('RS256', strangerRsa, user)],
    ['RS256 by a stranger key, unknown kid', (user) => forge('RS256', strangerRsa, user, 'stranger')],
    ['RS256 by a stranger key, kid of the RSA key of the set', (user) => forge('RS256', strangerRsa, user, rsa.kid)],
    ['ES256 by a stranger key, no kid', (user) => forge('ES256', strangerEc, user)],
    ['ES256 by a stranger key, unknown kid', (user) => forge('ES256', strangerEc, user, 'stranger')],
    ['ES256 by a stranger key, kid of the EC key of the set', (user) => forge('ES256', strangerEc, user, ec.kid)],
    // The kid of the set's RS256 key with another algorithm, even signed with that very key's material.
    ['PS256 by the RSA key of the set, its kid', async (user) => forge('PS256', await rsaAs('PS256'), user, rsa.kid)],
    ['RS384 by the RSA key of the set, its kid', async (user) => forge('RS384', await rsaAs('RS384'), user, rsa.kid)],
    ['RS512 by the RSA key of the set, its kid', async (user) => forge('RS512', await rsaAs('RS512'), user, rsa.kid)],
    ['ES256 by the EC key of the set, kid of the RSA key', (user) => forge('ES256', ec.privateKey, user, rsa.kid)],
    ['ES256 by a stranger key, kid of the RSA key', (user) => forge('ES256', strangerEc, user, rsa.kid)],
    ['RS256 by the RSA key of the set, kid of the EC key', (user) => forge('RS256', rsa.privateKey, user, ec.kid)],
  ];

  it.each(refused)('refuses %s: close 4001 on the socket, 401 on the REST API', async (_name, make) => {
    const user = uniqueUser('forged');
    const token = await make(user);
    const client = await TestClient.open(gateway.wsUrl, token);
    // Raced with 'connected', so that a token let through fails here at once rather than at the test's timeout.
    const outcome = await Promise.race([client.closed, client.waitForType('connected').then(() => 'connected')]);
    await client.close();
    expect(outcome).toEqual({ code: 4001, reason: 'Unauthorized' });
    expect(await restStatus(token)).toBe(401);
    expect(gateway.herald.isConnected(user)).toBe(false);
  });
});
