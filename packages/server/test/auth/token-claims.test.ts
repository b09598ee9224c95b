import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handshakeProtocols } from '@herald/protocol';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { hs256, nowS } from '../helpers/hs256.js';
import { TestClient } from '../helpers/ws-client.js';

/** 'connected as <user>' or 'close <code> <reason>' for an upgrade with `token` in `place`. */
async function upgradeOutcome(wsUrl: string, token: string, place: 'query' | 'subprotocol' | 'header'): Promise<string> {
  const client =
    place === 'query'
      ? await TestClient.open(wsUrl, token)
      : place === 'subprotocol'
        ? await TestClient.connect(wsUrl, { protocols: handshakeProtocols(token) })
        : await TestClient.connect(wsUrl, { headers: { authorization: `Bearer ${token}` } });
  const outcome = await Promise.race([
    client.closed.then(({ code, reason }) => `close ${code} ${reason}`),
    client.waitForType('connected').then(([connected]) => `connected as ${connected!.payload.user_id}`),
  ]);
  await client.close();
  return outcome;
}

const PLACES = ['query', 'subprotocol', 'header'] as const;

/** The status and body of an inbox request with `token`. */
async function restOutcome(baseUrl: string, token: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${baseUrl}/notifications/unread-count`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: await response.json() };
}

const refused = (message: string) => ({ status: 401, body: { error: 'unauthorized', message } });

/** The frame a `refresh` with `token` gets on a connection opened with a good token for `user`. */
async function refreshAnswer(gateway: TestGateway, user: string, token: string) {
  const client = await TestClient.open(gateway.wsUrl, await gateway.token(user, '1h'));
  await client.waitForType('connected');
  client.send({ type: 'refresh', payload: { token } });
  await client.waitFor((frames) => frames.some((frame) => frame.type === 'error' || frame.type === 'token_refreshed'));
  const answer = client.frames.find((frame) => frame.type === 'error' || frame.type === 'token_refreshed');
  expect(client.ws.readyState).toBe(client.ws.OPEN);
  await client.close();
  return answer;
}

/** A JWKS endpoint on loopback serving one RS256 key, and a signer for exactly the claims given. */
async function rs256Jwks(): Promise<{ url: string; sign: (claims: Record<string, unknown>) => Promise<string>; server: Server }> {
  const { publicKey, privateKey }: { publicKey: CryptoKey; privateKey: CryptoKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'claims', alg: 'RS256' };
  const server = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`,
    sign: (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'claims' }).sign(privateKey),
    server,
  };
}

describe('a token without exp, by default (HERALD_JWT_REQUIRE_EXP unset)', () => {
  let gateway: TestGateway;
  let jwks: Awaited<ReturnType<typeof rs256Jwks>>;
  beforeAll(async () => {
    jwks = await rs256Jwks();
    gateway = await startGateway('sqlite', { env: { HERALD_JWKS_URL: jwks.url } });
  });
  afterAll(async () => {
    await gateway.close();
    jwks.server.close();
  });

  it('is refused with 4001 in every place and with 401 on the REST API, HS256 and RS256 alike', async () => {
    const user = uniqueUser('no-exp');
    const tokens = [await hs256({ sub: user, iat: nowS() }), await jwks.sign({ sub: user, iat: nowS() })];
    for (const token of tokens) {
      for (const place of PLACES) expect(await upgradeOutcome(gateway.wsUrl, token, place)).toBe('close 4001 Unauthorized');
      expect(await restOutcome(gateway.baseUrl, token)).toEqual(refused('Token has no exp claim'));
    }
    // The control: the same claims with an exp are accepted from both key sources.
    const exp = nowS() + 60;
    for (const token of [await hs256({ sub: user, iat: nowS(), exp }), await jwks.sign({ sub: user, iat: nowS(), exp })]) {
      expect(await upgradeOutcome(gateway.wsUrl, token, 'subprotocol')).toBe(`connected as ${user}`);
      expect((await restOutcome(gateway.baseUrl, token)).status).toBe(200);
    }
    expect(gateway.herald.isConnected(user)).toBe(false);
  });

  it('is refused as a refresh with an error frame, and the connection stays open', async () => {
    const user = uniqueUser('refresh-no-exp');
    expect(await refreshAnswer(gateway, user, await hs256({ sub: user, iat: nowS() }))).toEqual({
      type: 'error',
      payload: { code: 'unauthorized', message: 'Refresh refused: Token has no exp claim' },
    });
  });
});

describe('HERALD_JWT_REQUIRE_EXP=false', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway('sqlite', { env: { HERALD_JWT_REQUIRE_EXP: 'false' } });
  });
  afterAll(() => gateway.close());

  it('accepts a token without exp in every place and on the REST API', async () => {
    const user = uniqueUser('no-exp-allowed');
    const token = await hs256({ sub: user });
    for (const place of PLACES) expect(await upgradeOutcome(gateway.wsUrl, token, place)).toBe(`connected as ${user}`);
    expect(await restOutcome(gateway.baseUrl, token)).toEqual({ status: 200, body: { count: 0, seq: 0 } });
  });

  it('takes one as a refresh, which then has no expiry', async () => {
    const user = uniqueUser('refresh-no-exp-allowed');
    expect(await refreshAnswer(gateway, user, await hs256({ sub: user }))).toEqual({ type: 'token_refreshed', payload: { expires_at: null } });
  });
});

describe('HERALD_JWT_MAX_TTL_S=3600', () => {
  const MAX = 3600;
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway('sqlite', { env: { HERALD_JWT_MAX_TTL_S: String(MAX) } });
  });
  afterAll(() => gateway.close());

  it('accepts a lifetime of exactly 3600 s and refuses 3601 s, in every place and on the REST API', async () => {
    const user = uniqueUser('ttl');
    const iat = nowS();
    const atLimit = await hs256({ sub: user, iat, exp: iat + MAX });
    const over = await hs256({ sub: user, iat, exp: iat + MAX + 1 });
    for (const place of PLACES) {
      expect(await upgradeOutcome(gateway.wsUrl, atLimit, place)).toBe(`connected as ${user}`);
      expect(await upgradeOutcome(gateway.wsUrl, over, place)).toBe('close 4001 Unauthorized');
    }
    expect((await restOutcome(gateway.baseUrl, atLimit)).status).toBe(200);
    expect(await restOutcome(gateway.baseUrl, over)).toEqual(refused('Token lifetime exceeds HERALD_JWT_MAX_TTL_S'));
  });

  it('refuses a token with exp but no iat, and one whose iat is in the future', async () => {
    const user = uniqueUser('ttl-iat');
    const noIat = await hs256({ sub: user, exp: nowS() + 60 });
    const later = nowS() + 86_400;
    const future = await hs256({ sub: user, iat: later, exp: later + 60 });
    for (const place of PLACES) {
      expect(await upgradeOutcome(gateway.wsUrl, noIat, place)).toBe('close 4001 Unauthorized');
      expect(await upgradeOutcome(gateway.wsUrl, future, place)).toBe('close 4001 Unauthorized');
    }
    expect(await restOutcome(gateway.baseUrl, noIat)).toEqual(refused('Token has no iat claim, so its lifetime cannot be checked'));
    expect(await restOutcome(gateway.baseUrl, future)).toEqual(refused('Token iat is in the future'));
  });

  it('applies the same rules to a refresh', async () => {
    const user = uniqueUser('ttl-refresh');
    const iat = nowS();
    const error = (message: string) => ({ type: 'error', payload: { code: 'unauthorized', message: `Refresh refused: ${message}` } });
    expect(await refreshAnswer(gateway, user, await hs256({ sub: user, iat, exp: iat + MAX + 1 }))).toEqual(
      error('Token lifetime exceeds HERALD_JWT_MAX_TTL_S'),
    );
    expect(await refreshAnswer(gateway, user, await hs256({ sub: user, exp: iat + 60 }))).toEqual(
      error('Token has no iat claim, so its lifetime cannot be checked'),
    );
    expect(await refreshAnswer(gateway, user, await hs256({ sub: user, iat }))).toEqual(error('Token has no exp claim'));
    expect(await refreshAnswer(gateway, user, await hs256({ sub: user, iat, exp: iat + MAX }))).toEqual({
      type: 'token_refreshed',
      payload: { expires_at: iat + MAX },
    });
  });
});
