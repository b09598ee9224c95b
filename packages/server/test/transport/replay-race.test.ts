import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../helpers/databases.js';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { heldStore, type HeldStore } from '../helpers/held-store.js';
import { TestClient, type Frame } from '../helpers/ws-client.js';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);
const seqs = (events: Frame[]) => events.map((event) => event.seq);
/** The replay's page size (StreamSync's default; the gateway has no setting for it). */
const PAGE_SIZE = 500;

/**
 * An event stored while a replay read is in flight is offered to a tab that is still catching up: it is not sent
 * then, only remembered (pendingHigh), and the catch-up must read again before it goes live. Each test holds one
 * store read at the Store seam, publishes inside it, and lets it go: no timing decides the order.
 */
describe.each(databaseKinds)('events stored during a replay read (%s)', (kind) => {
  let gateway: TestGateway;
  let control: HeldStore;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    gateway = await startGateway(kind, {
      wrapStore: (store) => {
        control = heldStore(store);
        return control.store;
      },
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(() => gateway.close());

  async function open(user: string, since?: number): Promise<TestClient> {
    const client = await TestClient.open(gateway.wsUrl, await gateway.token(user), since);
    clients.push(client);
    return client;
  }

  async function publish(user: string, count: number): Promise<number[]> {
    const items = Array.from({ length: count }, (_, index) => ({ user_id: user, type: 'new_notification' as const, payload: { index } }));
    const stored = await gateway.herald.publish(items);
    expect(stored).toHaveLength(count);
    return stored.map((event) => event.seq);
  }

  /**
   * The stream events a tab has once it has `last`, or what it had when they stopped coming: a tab that missed an
   * event never gets to `last` (nothing later is published to show it the gap), and the comparison shows the hole.
   */
  async function eventsUpTo(client: TestClient, last: number): Promise<Array<number | undefined>> {
    return seqs(await client.waitForSeq(last, 3000).catch(() => client.events));
  }

  /** A later live event follows at once and nothing before it comes again. */
  async function staysLive(client: TestClient, user: string, expected: number[]): Promise<void> {
    const [next] = await publish(user, 1);
    expect(seqs(await client.waitForSeq(next!))).toEqual([...expected, next]);
  }

  it('a tab resuming with ?since= gets the events stored while its replay read was answered, once, in order', async () => {
    const user = uniqueUser('since-race');
    await publish(user, 3);
    const read = control.holdEventsAfter(user, { phase: 'answer', since: 1 });
    const client = await open(user, 1);
    await read.reached;
    // The page [2, 3] has been read; 4 and 5 are stored and offered while it is on its way to the tab.
    expect(await publish(user, 2)).toEqual([4, 5]);
    read.release();
    expect(await eventsUpTo(client, 5)).toEqual([2, 3, 4, 5]);
    await staysLive(client, user, [2, 3, 4, 5]);
  });

  it('an event stored while the last, short page of a long replay is read is sent after that page, once', async () => {
    const user = uniqueUser('last-page');
    await publish(user, PAGE_SIZE + 100);
    // The first page is full, so the replay reads on anyway; the second is short and the last.
    const lastPage = control.holdEventsAfter(user, { phase: 'answer', since: PAGE_SIZE });
    const client = await open(user, 0);
    await lastPage.reached;
    const late = await publish(user, 2);
    expect(late).toEqual([PAGE_SIZE + 101, PAGE_SIZE + 102]);
    lastPage.release();
    expect(await eventsUpTo(client, PAGE_SIZE + 102)).toEqual(range(1, PAGE_SIZE + 102));
    await staysLive(client, user, range(1, PAGE_SIZE + 102));
  });

  it('an event stored while the replay reads an empty page after a full one is sent, once', async () => {
    const user = uniqueUser('full-page');
    await publish(user, PAGE_SIZE);
    const emptyPage = control.holdEventsAfter(user, { phase: 'answer', since: PAGE_SIZE });
    const client = await open(user, 0);
    await emptyPage.reached;
    expect(await publish(user, 1)).toEqual([PAGE_SIZE + 1]);
    emptyPage.release();
    expect(await eventsUpTo(client, PAGE_SIZE + 1)).toEqual(range(1, PAGE_SIZE + 1));
    await staysLive(client, user, range(1, PAGE_SIZE + 1));
  });

  // Without since, and with a since at the head: either way the tab needs no replay unless something came meanwhile.
  it.each([
    ['without since', false],
    ['with since at the head', true],
  ])('a tab that starts at the head (%s) gets an event stored while its head read was answered, once', async (_name, withSince) => {
    const user = uniqueUser('head-race');
    await publish(user, 2);
    const head = control.holdHeadSeq(user, { phase: 'answer' });
    const client = await open(user, withSince ? 2 : undefined);
    await head.reached;
    // The head (2) has been read; 3 is stored and offered before the connection has decided to skip the replay.
    expect(await publish(user, 1)).toEqual([3]);
    head.release();
    const [connected] = await client.waitForType('connected');
    expect(connected?.payload).toMatchObject({ seq: 2, since: 2 });
    expect(await eventsUpTo(client, 3)).toEqual([3]);
    await staysLive(client, user, [3]);
  });

  it('a resume frame on a live tab replays after its since, then the event stored during that replay, once each', async () => {
    const user = uniqueUser('resume-race');
    await publish(user, 3);
    const client = await open(user, 0);
    expect(seqs(await client.waitForSeq(3))).toEqual([1, 2, 3]);
    const read = control.holdEventsAfter(user, { phase: 'answer', since: 1 });
    client.send({ type: 'resume', payload: { since: 1 } });
    await read.reached;
    expect(await publish(user, 1)).toEqual([4]);
    read.release();
    // 1, 2, 3 live from the first replay; 2, 3 again as asked; then 4, which arrived during the second replay.
    const expected = [1, 2, 3, 2, 3, 4];
    await client.waitFor((frames) => frames.some((frame) => frame.seq === 4), 3000, 'seq 4').catch(() => undefined);
    expect(seqs(client.events)).toEqual(expected);
    await staysLive(client, user, expected);
  });
});
