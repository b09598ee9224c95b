import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, TEST_SECRET, type TestGateway } from '../../server/test/helpers/gateway.js';
import { waitUntil } from '../../server/test/helpers/wait-until.js';
import { HeraldApiError } from '../src/inbox-api.js';
import { HeraldClient, type TokenSource } from '../src/herald-client.js';

/** A correctly signed token that expired a minute ago (past Herald's 5 s tolerance). */
function expiredToken(userId: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: userId, iat: now - 3600, exp: now - 60 })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(TEST_SECRET));
}

describe('HeraldClient tokens', () => {
  let gateway: TestGateway;
  const clients: HeraldClient[] = [];
  beforeAll(async () => {
    gateway = await startGateway('sqlite');
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await gateway.close();
  });

  function client(token: TokenSource): HeraldClient {
    const created = new HeraldClient({ url: gateway.baseUrl, token, reconnect: { initialDelayMs: 20, maxDelayMs: 100 } });
    clients.push(created);
    return created;
  }

  it('asks the provider again after a 4001 and connects with the fresh token it returns', async () => {
    const user = 'token-refresh';
    const handed: string[] = [];
    const provider = async () => {
      // The first token has expired (as one kept across a laptop's sleep would); the next one is fresh.
      const token = handed.length === 0 ? await expiredToken(user) : await gateway.token(user);
      handed.push(token);
      return token;
    };
    const subject = client(provider);
    let unauthorized = 0;
    subject.on('unauthorized', () => unauthorized++);
    subject.connect();
    await waitUntil(() => subject.state === 'open', 'the client to open with the fresh token');
    expect(unauthorized).toBe(1);
    // Asked once for the first attempt and once after the refusal; the fresh token is used, not fetched again.
    expect(handed).toHaveLength(2);
    expect(handed[1]).not.toBe(handed[0]);
    expect(subject.userId).toBe(user);
  });

  it('stops on 4001 when no new token is at hand, and resumes where it was once setToken() gives one', async () => {
    const user = 'token-wait';
    const subject = client(await gateway.token(user));
    const seqs: number[] = [];
    subject.on('event', (frame) => seqs.push(frame.seq));
    subject.connect();
    await waitUntil(() => subject.state === 'open', 'the first connection');
    await gateway.publish({ user_id: user, type: 'new_notification', payload: { n: 1 } });
    await waitUntil(() => seqs.length === 1, 'the first event');

    // Herald restarts on the same port while the app's token source can only produce expired tokens.
    let provided = 0;
    const stuck = async () => {
      provided++;
      return expiredToken(user);
    };
    subject.setToken(stuck);
    gateway.herald.close().catch(() => undefined);
    await waitUntil(() => subject.state !== 'open', 'the drop');
    const port = new URL(gateway.baseUrl).port;
    gateway = await startGateway('sqlite', { databaseUrl: gateway.databaseUrl, env: { HERALD_PORT: port } });
    await waitUntil(() => subject.state === 'closed', 'the client to stop on 4001', 10_000);
    // Asked on every attempt while Herald was away, then once more after the 4001: and then no loop against a
    // token that cannot work.
    const callsWhenStopped = provided;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(provided).toBe(callsWhenStopped);

    await gateway.publish({ user_id: user, type: 'new_notification', payload: { n: 2 } });
    subject.setToken(await gateway.token(user));
    await waitUntil(() => seqs.length === 2, 'the event published while it was stopped');
    expect(seqs).toEqual([1, 2]);
    expect(subject.state).toBe('open');
  });

  it('retries a REST call once with a fresh token after a 401, and reports a 401 that persists', async () => {
    const user = 'token-rest';
    let calls = 0;
    const subject = client(async () => (++calls === 1 ? expiredToken(user) : gateway.token(user)));
    expect(await subject.unreadCount()).toEqual({ count: 0, seq: 0 });
    expect(calls).toBe(2);

    const hopeless = client(async () => expiredToken(user));
    const failure = await hopeless.list().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(HeraldApiError);
    expect(failure).toMatchObject({ status: 401, code: 'unauthorized' });
  });
});

describe('HeraldClient on a connection whose token expires', () => {
  let gateway: TestGateway;
  const clients: HeraldClient[] = [];
  beforeAll(async () => {
    gateway = await startGateway('sqlite', { env: { HERALD_TOKEN_GRACE_MS: '400', HERALD_PING_INTERVAL_MS: '200' } });
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await gateway.close();
  });

  it('sends the provider’s new token over the open socket each time, without reconnecting', async () => {
    const user = 'token-lifetime';
    let handed = 0;
    const subject = new HeraldClient({
      url: gateway.baseUrl,
      // Each token lives about a second, so the connection outlives several of them.
      token: () => {
        handed++;
        return gateway.token(user, '1s');
      },
    });
    clients.push(subject);
    const states: string[] = [];
    let expiries = 0;
    subject.on('state', (state) => states.push(state));
    subject.on('token_expired', () => expiries++);
    subject.connect();
    await waitUntil(() => expiries >= 3, 'three expiries', 10_000);
    await gateway.publish({ user_id: user, type: 'new_notification', payload: { n: 1 } });
    await waitUntil(() => subject.lastSeq === 1, 'an event after the refreshes');
    expect(states).toEqual(['connecting', 'open']);
    // The provider is called once to connect and once, synchronously, for each token_expired: never more.
    expect(handed).toBe(expiries + 1);
  });

  it('with a plain token, says unauthorized after the 4002 and waits for setToken()', async () => {
    const user = 'token-lifetime-plain';
    const subject = new HeraldClient({ url: gateway.baseUrl, token: await gateway.token(user, '1s') });
    clients.push(subject);
    let unauthorized = 0;
    subject.on('unauthorized', () => unauthorized++);
    subject.connect();
    await waitUntil(() => unauthorized === 1 && subject.state === 'closed', 'the 4002 to stop the client', 10_000);
    subject.setToken(await gateway.token(user, '1h'));
    await waitUntil(() => subject.state === 'open', 'the client to open with the new token');
  });
});
