import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_PAGE_BYTES, type Store, type StoredEvent } from '../../src/store/store.js';
import { databaseKinds } from '../helpers/databases.js';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { TestClient } from '../helpers/ws-client.js';

/** ~100 KB payloads: six to a page under the default budget (half of HERALD_MAX_BUFFERED_BYTES's 1 MiB). */
const TEXT = 'x'.repeat(100_000);
const EVENTS = 40;

/** The real store, with the payload bytes of every page that eventsAfter returned. */
function measuredStore(inner: Store, pages: { userId: string; bytes: number[] }[]): Store {
  return new Proxy(inner, {
    get(target, property) {
      if (property !== 'eventsAfter') {
        // Bound to the store itself: its private fields are not the proxy's.
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return async (...args: Parameters<Store['eventsAfter']>): Promise<StoredEvent[]> => {
        const page = await target.eventsAfter(...args);
        pages.push({ userId: args[0], bytes: page.map((event) => Buffer.byteLength(event.payloadJson!)) });
        return page;
      };
    },
  });
}

/**
 * A replay of events far larger together than the slow-consumer bound, to a real client that reads in short
 * bursts: it arrives whole and in order, the tab is never judged slow, and the store hands it over in pages cut
 * by size, so the server never holds more than about one page of it.
 */
describe.each(databaseKinds)('a replay of large events to a slow reader (%s)', (kind) => {
  let gateway: TestGateway;
  const pages: { userId: string; bytes: number[] }[] = [];
  const clients: TestClient[] = [];
  beforeAll(async () => {
    gateway = await startGateway(kind, { wrapStore: (store) => measuredStore(store, pages) });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(() => gateway.close());

  it('arrives complete and in order, in pages of about half the bound, and the tab then goes live', { timeout: 60_000 }, async () => {
    const user = uniqueUser('big-replay');
    for (let n = 1; n <= EVENTS; n++) {
      const response = await gateway.publish([{ user_id: user, type: 'task_update', payload: { n, text: TEXT } }]);
      expect(response.status).toBe(200);
    }
    const client = await TestClient.open(gateway.wsUrl, await gateway.token(user), 0);
    clients.push(client);
    // Reads for 5 ms out of every 40: the server's queue fills and its replay waits for the socket to drain.
    const socket = (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    let pausing: NodeJS.Timeout | undefined;
    const reading = setInterval(() => {
      socket.resume();
      pausing = setTimeout(() => socket.pause(), 5);
    }, 40);
    try {
      await client.waitForSeq(EVENTS, 45_000);
    } finally {
      clearInterval(reading);
      clearTimeout(pausing);
      socket.resume();
    }
    expect(client.events.map((event) => event.seq)).toEqual(Array.from({ length: EVENTS }, (_, i) => i + 1));
    expect(client.events.map((event) => event.payload.n)).toEqual(Array.from({ length: EVENTS }, (_, i) => i + 1));
    expect(client.frames.some((frame) => frame.type === 'error')).toBe(false);

    const mine = pages.filter((page) => page.userId === user && page.bytes.length > 0);
    expect(mine.map((page) => page.bytes.length).reduce((a, b) => a + b, 0)).toBe(EVENTS);
    for (const page of mine) {
      // Every page stops once half the bound is reached: at most its last event lies past it.
      expect(page.bytes.slice(0, -1).reduce((a, b) => a + b, 0)).toBeLessThan(EVENTS_PAGE_BYTES);
    }
    expect(mine.length).toBeGreaterThanOrEqual(Math.ceil((EVENTS * TEXT.length) / (EVENTS_PAGE_BYTES + TEXT.length)));

    const live = await gateway.publish([{ user_id: user, type: 'task_update', payload: { n: EVENTS + 1 } }]);
    expect(live.status).toBe(200);
    await client.waitForSeq(EVENTS + 1);
    expect(client.events.at(-1)!.seq).toBe(EVENTS + 1);
    expect(await Promise.race([client.closed, new Promise((open) => setTimeout(() => open('open'), 50))])).toBe('open');
  });
});
