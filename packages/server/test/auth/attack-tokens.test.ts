import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handshakeProtocols, SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from '@herald/protocol';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { startHerald } from '../helpers/herald-process.js';
import { hs256, nowS } from '../helpers/hs256.js';
import { metricValue } from '../helpers/metric-value.js';
import { TestClient } from '../helpers/ws-client.js';


/** 'connected', 'close <code>' or the HTTP refusal ('HTTP 431') of an upgrade with `token` in the given place. */
async function upgradeOutcome(wsUrl: string, token: string, place: 'query' | 'subprotocol' | 'header'): Promise<string> {
  try {
    const client: TestClient =
      place === 'query'
        ? await TestClient.connect(`${wsUrl}?${new URLSearchParams({ token })}`)
        : place === 'subprotocol'
          ? await TestClient.connect(wsUrl, { protocols: handshakeProtocols(token) })
          : await TestClient.connect(wsUrl, { headers: { authorization: `Bearer ${token}` } });
    const outcome = await Promise.race([
      client.closed.then(({ code }) => `close ${code}`),
      client.waitForType('connected').then(() => 'connected'),
    ]);
    await client.close();
    return outcome;
  } catch (error) {
    return (error as Error).message;
  }
}

describe('attacks on tokens', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway('sqlite');
  });
  afterAll(() => gateway.close());

  it('refuses a token whose payload was changed after signing (another sub, a later exp)', async () => {
    const victim = uniqueUser('victim');
    const genuine = await hs256({ sub: uniqueUser('attacker'), exp: nowS() + 60 });
    const [header, , signature] = genuine.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ sub: victim, exp: nowS() + 86_400 })).toString('base64url');
    const forged = `${header}.${forgedPayload}.${signature}`;
    for (const place of ['query', 'subprotocol', 'header'] as const) {
      expect(await upgradeOutcome(gateway.wsUrl, forged, place)).toBe('close 4001');
    }
    const rest = await fetch(`${gateway.baseUrl}/notifications`, { headers: { authorization: `Bearer ${forged}` } });
    expect(rest.status).toBe(401);
    expect(gateway.herald.isConnected(victim)).toBe(false);
  });

  it('refuses a 64 KB token in every place before verifying it', async () => {
    const user = uniqueUser('huge');
    const huge = await hs256({ sub: user, exp: nowS() + 60, pad: 'x'.repeat(64 * 1024) });
    const failuresBefore = await metricValue(gateway.baseUrl, 'herald_auth_failures_total');
    // Node's 16 KB header limit answers 431 before Herald sees the request at all.
    for (const place of ['query', 'subprotocol', 'header'] as const) {
      expect(await upgradeOutcome(gateway.wsUrl, huge, place)).toBe('HTTP 431');
    }
    const rest = await fetch(`${gateway.baseUrl}/notifications`, { headers: { authorization: `Bearer ${huge}` } });
    expect(rest.status).toBe(431);
    // Over an open socket the frame is over HERALD_MAX_MESSAGE_BYTES: ws stops reading it at the bound.
    const client = await TestClient.open(gateway.wsUrl, await gateway.token(user));
    await client.waitForType('connected');
    client.send({ type: 'refresh', payload: { token: huge } });
    expect((await client.closed).code).toBe(1009);
    expect(await metricValue(gateway.baseUrl, 'herald_auth_failures_total')).toBe(failuresBefore);
  });

  it('never echoes a token back: not in the chosen subprotocol, not in error frames, not in REST errors', async () => {
    const user = uniqueUser('echo');
    const token = await gateway.token(user);
    const client = await TestClient.connect(gateway.wsUrl, { protocols: handshakeProtocols(token) });
    expect(client.ws.protocol).toBe('herald.v1');
    await client.waitForType('connected');
    const bad = await hs256({ sub: user, exp: nowS() + 60 }, 'another-secret-long-enough-for-hs256-signing');
    client.send({ type: 'refresh', payload: { token: bad } });
    const [error] = await client.waitForType('error');
    expect(JSON.stringify(error)).not.toContain(bad.split('.')[2]);
    const rest = await fetch(`${gateway.baseUrl}/notifications`, { headers: { authorization: `Bearer ${bad}` } });
    expect(await rest.text()).not.toContain(bad.split('.')[2]);
    await client.close();
  });
});

/** Where an upgrade carries its token(s); an array is that place repeated. */
interface TokenPlaces {
  subprotocol?: string | string[];
  query?: string | string[];
  authorization?: string | string[];
}

/** 'connected as <user>' or 'close <code>' for an upgrade that carries tokens in `places`. */
async function placesOutcome(wsUrl: string, places: TokenPlaces): Promise<string> {
  const list = (value: string | string[] | undefined) => (value === undefined ? [] : [value].flat());
  const query = new URLSearchParams(list(places.query).map((token) => ['token', token]));
  const protocols = list(places.subprotocol).map((token) => `${TOKEN_SUBPROTOCOL_PREFIX}${token}`);
  const client = await TestClient.connect(query.size > 0 ? `${wsUrl}?${query}` : wsUrl, {
    protocols: [SUBPROTOCOL, ...protocols],
    // ws hands the headers to http.request, which sends an array as one header line per value; ws's type says string.
    headers: (places.authorization === undefined ? {} : { authorization: places.authorization }) as Record<string, string>,
  });
  const outcome = await Promise.race([
    client.closed.then(({ code }) => `close ${code}`),
    client.waitForType('connected').then(([connected]) => `connected as ${connected!.payload.user_id}`),
  ]);
  await client.close();
  return outcome;
}

describe('a token in more than one place (subprotocol, query, Authorization)', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway('sqlite');
  });
  afterAll(() => gateway.close());

  it('refuses two different tokens in any two places, or in all three, with 4001, whichever place a proxy checked', async () => {
    // Both genuine and for different users: a proxy that authorised the one it reads must not let Herald use the other.
    const checked = uniqueUser('checked');
    const smuggled = uniqueUser('smuggled');
    const good = await gateway.token(checked);
    const other = await gateway.token(smuggled);
    const cases: TokenPlaces[] = [
      { subprotocol: good, query: other },
      { subprotocol: other, query: good },
      { subprotocol: good, authorization: `Bearer ${other}` },
      { subprotocol: other, authorization: `Bearer ${good}` },
      { query: good, authorization: `Bearer ${other}` },
      { query: other, authorization: `Bearer ${good}` },
      { subprotocol: good, query: good, authorization: `Bearer ${other}` },
      { subprotocol: good, query: other, authorization: `Bearer ${good}` },
      { subprotocol: other, query: good, authorization: `Bearer ${good}` },
      // A good token beside garbage: the garbage is not ignored because the good one came first.
      { subprotocol: good, query: 'not-a-jwt' },
      { query: good, authorization: 'Bearer not-a-jwt' },
    ];
    const failuresBefore = await metricValue(gateway.baseUrl, 'herald_auth_failures_total');
    for (const places of cases) {
      expect({ places, outcome: await placesOutcome(gateway.wsUrl, places) }).toEqual({ places, outcome: 'close 4001' });
    }
    expect(await metricValue(gateway.baseUrl, 'herald_auth_failures_total')).toBe(failuresBefore + cases.length);
    expect(gateway.herald.isConnected(checked)).toBe(false);
    expect(gateway.herald.isConnected(smuggled)).toBe(false);
  });

  it('refuses two different values repeated in one place', async () => {
    const good = await gateway.token(uniqueUser('repeated'));
    const other = await gateway.token(uniqueUser('repeated-other'));
    const cases: TokenPlaces[] = [
      { subprotocol: [good, other] },
      { query: [good, other] },
      { authorization: [`Bearer ${good}`, `Bearer ${other}`] },
      { query: [good, good], subprotocol: other },
    ];
    for (const places of cases) {
      expect({ places, outcome: await placesOutcome(gateway.wsUrl, places) }).toEqual({ places, outcome: 'close 4001' });
    }
  });

  it('counts an empty value as a value: beside a good token it is a second, different one', async () => {
    const good = await gateway.token(uniqueUser('empty'));
    const cases: TokenPlaces[] = [
      { subprotocol: good, query: '' },
      { subprotocol: '', query: good },
      { query: good, authorization: 'Bearer' },
      { subprotocol: good, authorization: 'Bearer   ' },
    ];
    for (const places of cases) {
      expect({ places, outcome: await placesOutcome(gateway.wsUrl, places) }).toEqual({ places, outcome: 'close 4001' });
    }
  });

  it('accepts the same token in two places, in all three, or twice in one (the control for the refusals above)', async () => {
    const user = uniqueUser('same');
    const token = await gateway.token(user);
    const cases: TokenPlaces[] = [
      { subprotocol: token, query: token },
      { subprotocol: token, authorization: `Bearer ${token}` },
      { query: token, authorization: `bearer  ${token} ` },
      { subprotocol: token, query: token, authorization: `Bearer ${token}` },
      { query: [token, token] },
      { authorization: [`Bearer ${token}`, `Bearer ${token}`] },
      // Another scheme carries no Herald token (a browser may send cached Basic credentials for the site).
      { query: token, authorization: `Basic ${Buffer.from('someone:pw').toString('base64')}` },
    ];
    for (const places of cases) {
      expect({ places, outcome: await placesOutcome(gateway.wsUrl, places) }).toEqual({ places, outcome: `connected as ${user}` });
    }
  });
});

describe('clock tolerance (HERALD_JWT_CLOCK_TOLERANCE_S)', () => {
  const tokens = async (user: string) => ({
    notYet: await hs256({ sub: user, nbf: nowS() + 30, exp: nowS() + 3600 }),
    justExpired: await hs256({ sub: user, iat: nowS() - 3600, exp: nowS() - 30 }),
  });

  it('refuses nbf 30 s ahead and exp 30 s ago with no tolerance', async () => {
    const gateway = await startGateway('sqlite', { env: { HERALD_JWT_CLOCK_TOLERANCE_S: '0' } });
    try {
      const { notYet, justExpired } = await tokens(uniqueUser('strict'));
      expect(await upgradeOutcome(gateway.wsUrl, notYet, 'subprotocol')).toBe('close 4001');
      expect(await upgradeOutcome(gateway.wsUrl, justExpired, 'subprotocol')).toBe('close 4001');
    } finally {
      await gateway.close();
    }
  });

  it('accepts both within a 60 s tolerance', async () => {
    const gateway = await startGateway('sqlite', { env: { HERALD_JWT_CLOCK_TOLERANCE_S: '60' } });
    try {
      const user = uniqueUser('tolerant');
      const { notYet, justExpired } = await tokens(user);
      for (const token of [notYet, justExpired]) {
        const client = await TestClient.connect(gateway.wsUrl, { protocols: handshakeProtocols(token) });
        const [connected] = await client.waitForType('connected');
        expect(connected?.payload.user_id).toBe(user);
        await client.close();
      }
    } finally {
      await gateway.close();
    }
  });
});

describe('JWKS with unknown key ids', () => {
  let jwks: Server;
  let requests = 0;
  let gateway: TestGateway;
  let privateKey: CryptoKey;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'known', alg: 'ES256' };
    jwks = createServer((_request, response) => {
      requests++;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    gateway = await startGateway('sqlite', {
      env: { HERALD_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`, HERALD_JWT_SECRET: '' },
    });
  });
  afterAll(async () => {
    await gateway.close();
    jwks.close();
  });

  const signWithKid = (kid: string, user: string) =>
    new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid }).setSubject(user).setExpirationTime('5m').sign(privateKey);

  it('refuses a flood of tokens with made-up kids while fetching the key set again at most once', async () => {
    const user = uniqueUser('kid');
    // The known key first: the key set is now cached.
    expect(await upgradeOutcome(gateway.wsUrl, await signWithKid('known', user), 'subprotocol')).toBe('connected');
    const fetchesBefore = requests;
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => upgradeOutcome(gateway.wsUrl, await signWithKid(`made-up-${i}`, user), 'subprotocol')),
    );
    expect(new Set(outcomes)).toEqual(new Set(['close 4001']));
    // An unknown kid may trigger one re-fetch (a rotated key); the rest fall in the cooldown.
    expect(requests - fetchesBefore).toBeLessThanOrEqual(1);
  });
});

describe('tokens never reach the logs', () => {
  it('leaves no token, good or bad, in a debug-level log of every way a token can arrive', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-log-scan-'));
    const secret = 'log-scan-secret-that-is-long-enough-for-hs256';
    const apiKey = 'log-scan-api-key-0123456789';
    const { child, url } = await startHerald(dir, { HERALD_JWT_SECRET: secret, HERALD_API_KEY: apiKey, HERALD_LOG_LEVEL: 'debug' });
    try {
      const wsUrl = `${String(url).replace('http', 'ws')}/ws/notifications`;
      const user = uniqueUser('logged');
      const good = await hs256({ sub: user, exp: nowS() + 60 }, secret);
      const wrong = await hs256({ sub: user, exp: nowS() + 60 }, 'a-different-secret-long-enough-for-hs256');
      const expired = await hs256({ sub: user, exp: nowS() - 600 }, secret);
      const secrets = [good, wrong, expired];
      for (const token of secrets) {
        for (const place of ['query', 'subprotocol', 'header'] as const) await upgradeOutcome(wsUrl, token, place);
        await fetch(`${url}/notifications`, { headers: { authorization: `Bearer ${token}` } });
        await fetch(`${url}/notifications?token=${token}`);
      }
      const client = await TestClient.connect(wsUrl, { protocols: handshakeProtocols(good) });
      await client.waitForType('connected');
      client.send({ type: 'refresh', payload: { token: wrong } });
      client.send({ type: 'refresh', payload: { token: good } });
      await client.waitForType('token_refreshed');
      await client.close();
      await fetch(`${url}/publish`, { method: 'POST', headers: { authorization: `Bearer ${wrong}` }, body: '{}' });
      child.kill('SIGTERM');
      await child.exited;

      expect(child.output).toContain('"level":20');
      for (const token of [...secrets, apiKey]) {
        // The signature part alone is enough to replay a token; none of it may be written anywhere.
        const signature = token.split('.').at(-1)!;
        expect(child.output).not.toContain(signature);
      }
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
