import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { metricValue } from '../helpers/metric-value.js';
import { TestClient } from '../helpers/ws-client.js';

describe('token lifetime on an open connection', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    // The expiry rides the keepalive wheel, whose precision is a twentieth of the ping interval.
    gateway = await startGateway('sqlite', { env: { HERALD_TOKEN_GRACE_MS: '400', HERALD_PING_INTERVAL_MS: '200' } });
  });
  afterAll(() => gateway.close());

  const expiredFrames = (client: TestClient) => client.frames.filter((frame) => frame.type === 'token_expired');

  it('tells the client when its token expires, then closes with 4002 once the grace period passed', async () => {
    const user = uniqueUser('expires');
    const dropsBefore = await metricValue(gateway.baseUrl, 'herald_drops_total', { reason: 'token_expired' });
    const client = await TestClient.open(gateway.wsUrl, await gateway.token(user, '1s'));
    await client.waitForType('connected');
    const [expired] = await client.waitForType('token_expired', 1, 5000);
    expect(expired).toEqual({ type: 'token_expired', payload: { grace_ms: 400 } });
    expect(await client.closed).toEqual({ code: 4002, reason: 'Token expired' });
    expect(expiredFrames(client)).toHaveLength(1);
    expect(await metricValue(gateway.baseUrl, 'herald_drops_total', { reason: 'token_expired' })).toBe(dropsBefore + 1);
  });

  it('keeps the connection when a refresh with a new token for the same user arrives in the grace period', async () => {
    const user = uniqueUser('refreshes');
    const client = await TestClient.open(gateway.wsUrl, await gateway.token(user, '1s'));
    await client.waitForType('token_expired', 1, 5000);
    client.send({ type: 'refresh', payload: { token: await gateway.token(user, '1h') } });
    const [refreshed] = await client.waitForType('token_refreshed');
    expect(refreshed?.payload.expires_at).toBeGreaterThan(Date.now() / 1000 + 3000);

    // Well past the old grace period the connection is open and still receives the user's events.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await gateway.publish({ user_id: user, type: 'new_notification', payload: { after: 'refresh' } });
    await client.waitForSeq(1);
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    expect(expiredFrames(client)).toHaveLength(1);
    await client.close();
  });

  it("closes with 4001 at once when the refresh token is another user's", async () => {
    const user = uniqueUser('victim');
    const client = await TestClient.open(gateway.wsUrl, await gateway.token(user, '1h'));
    await client.waitForType('connected');
    client.send({ type: 'refresh', payload: { token: await gateway.token(uniqueUser('intruder'), '1h') } });
    expect(await client.closed).toEqual({ code: 4001, reason: 'Refresh token is for another user' });
  });

  it('answers a bad refresh with an error and lets the old deadline run out', async () => {
    const user = uniqueUser('bad-refresh');
    const client = await TestClient.open(gateway.wsUrl, await gateway.token(user, '1s'));
    await client.waitForType('connected');
    client.send({ type: 'refresh', payload: { token: 'not-a-jwt' } });
    client.send({ type: 'refresh', payload: { token: '' } });
    client.send({ type: 'refresh', payload: {} });
    const errors = await client.waitForType('error', 3);
    expect(errors.map((frame) => frame.payload.code).sort()).toEqual(['invalid_frame', 'invalid_frame', 'unauthorized']);
    expect(await client.closed).toEqual({ code: 4002, reason: 'Token expired' });
  });
});
