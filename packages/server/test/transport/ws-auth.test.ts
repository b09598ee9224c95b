import { handshakeProtocols, SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from '@herald/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { hs256, nowS } from '../helpers/hs256.js';
import { metricValue } from '../helpers/metric-value.js';
import { TestClient } from '../helpers/ws-client.js';

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Every token form the gateway must refuse with 4001, for `userId` where the form has a user at all. */
async function badTokenForms(userId: string): Promise<Array<{ name: string; token: string | undefined }>> {
  const now = nowS();
  return [
    { name: 'missing', token: undefined },
    { name: 'empty', token: '' },
    { name: 'garbage', token: 'not-a-jwt' },
    { name: 'three garbage parts', token: 'abc.def.ghi' },
    // The gateway allows 5 s of clock skew; a minute is well past it.
    { name: 'expired', token: await hs256({ sub: userId, iat: now - 3600, exp: now - 60 }) },
    { name: 'not yet valid', token: await hs256({ sub: userId, nbf: now + 3600, exp: now + 7200 }) },
    { name: 'signed with another secret', token: await hs256({ sub: userId, exp: now + 3600 }, 'another-secret-that-is-long-enough-for-hs256') },
    { name: 'alg none', token: `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub: userId, exp: now + 3600 })}.` },
    {
      // A valid HS256 signature over an alg=none header must not pass either.
      name: 'alg none with a signature',
      token: await (async () => {
        const real = await hs256({ sub: userId, exp: now + 3600 });
        const [, payload, signature] = real.split('.');
        return `${base64url({ alg: 'none', typ: 'JWT' })}.${payload}.${signature}`;
      })(),
    },
    // HERALD_JWT_REQUIRE_EXP is on by default: a token without exp would keep its socket open for ever.
    { name: 'without exp', token: await hs256({ sub: userId, iat: now }) },
    { name: 'with a null exp', token: await hs256({ sub: userId, iat: now, exp: null }) },
    { name: 'without sub', token: await hs256({ exp: now + 3600 }) },
    { name: 'with an empty sub', token: await hs256({ sub: '', exp: now + 3600 }) },
    { name: 'with a numeric sub', token: await hs256({ sub: 42, exp: now + 3600 }) },
    // Correctly signed, so only its size can be the reason (~12 KB, still under Node's 16 KB header limit).
    { name: 'far over 8 KB', token: await hs256({ sub: userId, exp: now + 3600, pad: 'x'.repeat(9000) }) },
  ];
}

function urlWithToken(wsUrl: string, token: string | undefined): string {
  return token === undefined ? wsUrl : `${wsUrl}?${new URLSearchParams({ token })}`;
}

describe('WebSocket authentication', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway('sqlite');
  });
  afterAll(() => gateway.close());

  it('gives a good token a connected frame for the token\'s user (the control for every refusal below)', async () => {
    const user = uniqueUser('good');
    const client = await TestClient.open(gateway.wsUrl, await gateway.token(user));
    const [connected] = await client.waitForType('connected');
    expect(connected?.payload).toMatchObject({ user_id: user, seq: 0, since: 0 });
    expect(gateway.herald.isConnected(user)).toBe(true);
    expect(gateway.herald.connectedUsers()).toContain(user);
    await client.close();
  });

  it('closes every bad token form with 4001 "Unauthorized", sends nothing, and never registers the user', async () => {
    const user = uniqueUser('bad');
    const forms = await badTokenForms(user);
    expect(forms.find((form) => form.name === 'far over 8 KB')!.token!.length).toBeGreaterThan(10 * 1024);
    for (const { name, token } of forms) {
      const client = await TestClient.connect(urlWithToken(gateway.wsUrl, token));
      const closed = await client.closed;
      expect({ name, ...closed }).toEqual({ name, code: 4001, reason: 'Unauthorized' });
      expect({ name, frames: client.frames }).toEqual({ name, frames: [] });
      expect(gateway.herald.isConnected(user)).toBe(false);
      expect(gateway.herald.connectedUsers()).not.toContain(user);
    }
  });

  it('accepts the token in an Authorization: Bearer header', async () => {
    const user = uniqueUser('header');
    const client = await TestClient.connect(gateway.wsUrl, { headers: { authorization: `Bearer ${await gateway.token(user)}` } });
    const [connected] = await client.waitForType('connected');
    expect(connected?.payload.user_id).toBe(user);
    await gateway.publish({ user_id: user, type: 'task_update', payload: { action: 'created', task: { id: 1 } } });
    const events = await client.waitForSeq(1);
    expect(events).toEqual([{ type: 'task_update', seq: 1, payload: { action: 'created', task: { id: 1 } } }]);
    await client.close();
  });

  it('accepts the token as a herald.token.<jwt> subprotocol, and selects only herald.v1 in the answer', async () => {
    const user = uniqueUser('subprotocol');
    const client = await TestClient.connect(gateway.wsUrl, { protocols: handshakeProtocols(await gateway.token(user)) });
    expect(client.ws.protocol).toBe(SUBPROTOCOL);
    const [connected] = await client.waitForType('connected');
    expect(connected?.payload.user_id).toBe(user);
    await client.close();
  });

  it('refuses a bad token offered as a subprotocol with 4001, whatever good token the URL has', async () => {
    const user = uniqueUser('bad-subprotocol');
    const wrong = await hs256({ sub: user, exp: nowS() + 3600 }, 'another-secret-that-is-long-enough-for-hs256');
    const url = urlWithToken(gateway.wsUrl, await gateway.token(user));
    for (const protocols of [handshakeProtocols(wrong), handshakeProtocols('not-a-jwt'), [SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX]]) {
      const client = await TestClient.connect(url, { protocols });
      expect(await client.closed).toEqual({ code: 4001, reason: 'Unauthorized' });
      expect(client.frames).toEqual([]);
    }
    expect(gateway.herald.isConnected(user)).toBe(false);
  });

  it('refuses a bad token in the Authorization header, and a header that is not Bearer', async () => {
    const user = uniqueUser('bad-header');
    const wrong = await hs256({ sub: user, exp: nowS() + 3600 }, 'another-secret-that-is-long-enough-for-hs256');
    for (const authorization of [`Bearer ${wrong}`, `Basic ${Buffer.from(`${user}:pw`).toString('base64')}`, 'Bearer']) {
      const client = await TestClient.connect(gateway.wsUrl, { headers: { authorization } });
      expect(await client.closed).toEqual({ code: 4001, reason: 'Unauthorized' });
      expect(client.frames).toEqual([]);
    }
    expect(gateway.herald.isConnected(user)).toBe(false);
  });

  it('accepts a token that expired within the clock tolerance (5 s)', async () => {
    const user = uniqueUser('skew');
    const now = nowS();
    const client = await TestClient.open(gateway.wsUrl, await hs256({ sub: user, iat: now - 60, exp: now - 1 }));
    const [connected] = await client.waitForType('connected');
    expect(connected?.payload.user_id).toBe(user);
    await client.close();
  });

  it('counts every refused token in herald_auth_failures_total', async () => {
    const user = uniqueUser('metric');
    const forms = await badTokenForms(user);
    const before = await metricValue(gateway.baseUrl, 'herald_auth_failures_total');
    for (const { token } of forms) {
      const client = await TestClient.connect(urlWithToken(gateway.wsUrl, token));
      expect((await client.closed).code).toBe(4001);
    }
    const good = await TestClient.open(gateway.wsUrl, await gateway.token(user));
    await good.waitForType('connected');
    // Only the refusals count: the good connection above adds nothing.
    expect(await metricValue(gateway.baseUrl, 'herald_auth_failures_total')).toBe(before + forms.length);
    await good.close();
  });

  it('leaves no trace of a refused user while the same user is connected with a good token elsewhere', async () => {
    const user = uniqueUser('mixed');
    const good = await TestClient.open(gateway.wsUrl, await gateway.token(user));
    await good.waitForType('connected');
    const expired = await hs256({ sub: user, exp: nowS() - 60 });
    const refused = await TestClient.open(gateway.wsUrl, expired);
    expect((await refused.closed).code).toBe(4001);
    // The refused socket never joined the user's tabs: an event reaches the good tab only, and it stays the only one.
    await gateway.publish({ user_id: user, type: 'new_notification', payload: { title: 'only once' } });
    const events = await good.waitForSeq(1);
    expect(events.map((event) => event.seq)).toEqual([1]);
    expect(refused.frames).toEqual([]);
    await good.close();
    await expect.poll(() => gateway.herald.isConnected(user)).toBe(false);
    expect(gateway.herald.connectedUsers()).not.toContain(user);
  });
});
