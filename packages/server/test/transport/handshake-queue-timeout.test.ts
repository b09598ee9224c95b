import { afterEach, describe, expect, it, vi } from 'vitest';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { heldJwks, type HeldJwks } from '../helpers/held-jwks.js';
import { metricValue } from '../helpers/metric-value.js';
import { waitUntil } from '../helpers/wait-until.js';
import { TestClient } from '../helpers/ws-client.js';

/** HERALD_HEADERS_TIMEOUT_MS: how long an upgrade may wait in the handshake queue. */
const QUEUE_TIMEOUT_MS = 1000;

describe('the handshake queue timeout', () => {
  let gateway: TestGateway | undefined;
  let jwks: HeldJwks | undefined;
  const clients: TestClient[] = [];
  afterEach(async () => {
    vi.useRealTimers();
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await gateway?.close();
    await jwks?.close();
    gateway = undefined;
    jwks = undefined;
  });

  const queued = () => metricValue(gateway!.baseUrl, 'herald_handshakes_queued');
  const refusedForHandshakes = () => metricValue(gateway!.baseUrl, 'herald_refused_connections_total', { reason: 'handshakes' });

  it('answers 503 to a queued upgrade that waited past HERALD_HEADERS_TIMEOUT_MS, counts it, and lets a fresh one in', async () => {
    jwks = await heldJwks();
    gateway = await startGateway('sqlite', {
      env: {
        HERALD_JWKS_URL: jwks.url,
        HERALD_MAX_HANDSHAKES: '1',
        HERALD_MAX_HANDSHAKE_QUEUE: '4',
        HERALD_HEADERS_TIMEOUT_MS: String(QUEUE_TIMEOUT_MS),
      },
    });
    const { wsUrl } = gateway;
    // A user connected before the queue forms: delivery must not wait on anyone's handshake.
    const reader = uniqueUser('reader');
    const readerTab = await TestClient.open(wsUrl, await gateway.token(reader));
    clients.push(readerTab);
    await readerTab.waitForType('connected');

    // The clock of the queue is moved by hand (only Date is faked; sockets and timers stay real), so that one
    // upgrade has waited past the timeout and another has not, whatever the machine's speed.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now());

    // The only handshake slot is taken by a token whose keys the JWKS endpoint has not sent yet.
    const held = TestClient.open(wsUrl, await jwks.sign(uniqueUser('held')));
    await jwks.keysAsked;
    const staleUser = uniqueUser('stale');
    const stale = TestClient.open(wsUrl, await gateway.token(staleUser)).then(
      (client) => {
        clients.push(client);
        return client;
      },
      (error: Error) => error,
    );
    await waitUntil(async () => (await queued()) === 1, 'the first upgrade to queue');

    const first = await gateway.publish({ user_id: reader, type: 'new_notification', payload: { title: 'while queued' } });
    expect(first.status).toBe(200);
    await readerTab.waitForSeq(1);

    vi.setSystemTime(Date.now() + QUEUE_TIMEOUT_MS + 1);
    const freshUser = uniqueUser('fresh');
    const fresh = TestClient.open(wsUrl, await gateway.token(freshUser));
    await waitUntil(async () => (await queued()) === 2, 'the second upgrade to queue');
    const refusedBefore = await refusedForHandshakes();

    // The slot frees: the upgrade queued longest ago is refused, the one within its time gets the slot.
    jwks.release();
    const heldTab = await held;
    clients.push(heldTab);
    const outcome = await stale;
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toBe('HTTP 503');
    const freshTab = await fresh;
    clients.push(freshTab);
    expect((await freshTab.waitForType('connected'))[0]?.payload.user_id).toBe(freshUser);
    expect(await refusedForHandshakes()).toBe(refusedBefore + 1);
    expect(await queued()).toBe(0);
    expect(gateway.herald.isConnected(staleUser)).toBe(false);

    const second = await gateway.publish({ user_id: reader, type: 'new_notification', payload: { title: 'after' } });
    expect(second.status).toBe(200);
    const events = await readerTab.waitForSeq(2);
    expect(events.map((event) => event.seq)).toEqual([1, 2]);
    expect(readerTab.ws.readyState).toBe(readerTab.ws.OPEN);
  });
});
