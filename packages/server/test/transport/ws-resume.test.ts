import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Herald } from '../../src/gateway.js';
import { mintToken } from '../../src/auth/mint-token.js';
import type { Store } from '../../src/store/store.js';
import { databaseKinds } from '../helpers/databases.js';
import { startGateway, TEST_SECRET, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { latch, type Latch } from '../helpers/latch.js';
import { TestClient, type Frame } from '../helpers/ws-client.js';

/** 1..n */
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);
const seqs = (events: Frame[]) => events.map((event) => event.seq);

describe.each(databaseKinds)('resume and ordering (%s)', (kind) => {
  let gateway: TestGateway;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    gateway = await startGateway(kind);
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

  async function connected(client: TestClient): Promise<{ user_id: string; seq: number; since: number }> {
    const [frame] = await client.waitForType('connected');
    return frame!.payload;
  }

  /** Publishes one item per title (alternating notification and task update) in one batch; expects all stored. */
  async function publishTitles(user: string, titles: string[]): Promise<Array<{ seq: number; notification_id?: string }>> {
    const response = await gateway.publish(
      titles.map((title, index) =>
        index % 2 === 0
          ? { user_id: user, type: 'new_notification', payload: { title } }
          : { user_id: user, type: 'task_update', payload: { action: 'updated', task: { title } } },
      ),
    );
    expect(response.status).toBe(200);
    expect(response.body.stored).toBe(titles.length);
    return response.body.events;
  }

  /** The title an event carries, whichever type it is. */
  const titleOf = (event: Frame) =>
    event.type === 'new_notification' ? event.payload.payload.title : event.type === 'task_update' ? event.payload.task.title : undefined;

  it('?since=N replays exactly the events after N, in order, then live ones', async () => {
    const user = uniqueUser('since');
    await publishTitles(user, range(1, 10).map((n) => `t${n}`));
    const client = await open(user, 4);
    expect(await connected(client)).toEqual({ user_id: user, seq: 10, since: 4, ping_interval_ms: 30_000 });
    await client.waitForSeq(10);
    await publishTitles(user, ['t11', 't12']);
    const events = await client.waitForSeq(12);
    expect(seqs(events)).toEqual(range(5, 12));
    expect(events.map(titleOf)).toEqual(range(5, 12).map((n) => `t${n}`));
    // Stream frames carry exactly type, seq and payload; the replayed ones look like the live ones.
    for (const event of events) expect(Object.keys(event).sort()).toEqual(['payload', 'seq', 'type']);
    expect(events[0]).toMatchObject({ type: 'new_notification', payload: { status: 'unread', read_at: null, key: null } });
    expect(events[1]).toMatchObject({ type: 'task_update', payload: { action: 'updated' } });
    expect(client.frames[0]?.type).toBe('connected');
  });

  it('without since starts at the head: no replay, only live events', async () => {
    const user = uniqueUser('head');
    await publishTitles(user, ['old1', 'old2', 'old3']);
    const client = await open(user);
    expect(await connected(client)).toMatchObject({ seq: 3, since: 3 });
    await publishTitles(user, ['new4']);
    const events = await client.waitForSeq(4);
    expect(seqs(events)).toEqual([4]);
    expect(events.map(titleOf)).toEqual(['new4']);
  });

  it('?since=0 replays the whole stream', async () => {
    const user = uniqueUser('zero');
    await publishTitles(user, ['a', 'b', 'c']);
    const client = await open(user, 0);
    expect(await connected(client)).toMatchObject({ seq: 3, since: 0 });
    const events = await client.waitForSeq(3);
    expect(events.map(titleOf)).toEqual(['a', 'b', 'c']);
  });

  it('clamps a since beyond the head to the head, and then delivers the next event', async () => {
    const user = uniqueUser('clamp');
    await publishTitles(user, ['a', 'b', 'c']);
    const client = await open(user, 1000);
    expect(await connected(client)).toMatchObject({ seq: 3, since: 3 });
    await publishTitles(user, ['d']);
    const events = await client.waitForSeq(4);
    expect(seqs(events)).toEqual([4]);
    expect(events.map(titleOf)).toEqual(['d']);
  });

  it('a user with no events is at seq 0, and a since beyond it is clamped to 0', async () => {
    const user = uniqueUser('empty');
    const client = await open(user, 5);
    expect(await connected(client)).toMatchObject({ user_id: user, seq: 0, since: 0 });
    await publishTitles(user, ['first']);
    expect(seqs(await client.waitForSeq(1))).toEqual([1]);
  });

  it('a resume frame mid-connection replays after its since again, then live events continue', async () => {
    const user = uniqueUser('resume');
    const client = await open(user);
    await connected(client);
    await publishTitles(user, ['a', 'b', 'c', 'd', 'e']);
    await client.waitForSeq(5);
    client.send({ type: 'resume', payload: { since: 2 } });
    // The replay is 3, 4, 5 again: eight stream events in all.
    await client.waitFor((frames) => frames.filter((frame) => frame.seq !== undefined).length >= 8, 5000, 'the replay');
    await publishTitles(user, ['f']);
    await client.waitFor((frames) => frames.some((frame) => frame.seq === 6), 5000, 'seq 6');
    expect(seqs(client.events)).toEqual([1, 2, 3, 4, 5, 3, 4, 5, 6]);
    expect(client.events.map(titleOf)).toEqual(['a', 'b', 'c', 'd', 'e', 'c', 'd', 'e', 'f']);
  });

  it('honours a resume frame sent the moment the socket opens, before the connected frame', async () => {
    // The resume races the connection's own start-up; over several connections every ordering comes up.
    for (let attempt = 0; attempt < 25; attempt++) {
      const user = uniqueUser('early-resume');
      await publishTitles(user, ['a', 'b', 'c']);
      const client = await open(user);
      client.send({ type: 'resume', payload: { since: 0 } });
      const events = await client.waitForSeq(3, 3000).catch(() => client.events);
      expect({ attempt, seqs: seqs(events) }).toEqual({ attempt, seqs: [1, 2, 3] });
      expect(events.map(titleOf)).toEqual(['a', 'b', 'c']);
      await client.close();
    }
  });

  it('a resume frame with a since beyond the head replays nothing and keeps live events flowing', async () => {
    const user = uniqueUser('resume-ahead');
    const client = await open(user);
    await connected(client);
    await publishTitles(user, ['a', 'b']);
    await client.waitForSeq(2);
    client.send({ type: 'resume', payload: { since: 99 } });
    // A ping after the resume is answered after the resume was handled; then a live event proves the cursor.
    client.send({ type: 'ping' });
    await client.waitForType('pong');
    await publishTitles(user, ['c']);
    await client.waitForSeq(3);
    expect(seqs(client.events)).toEqual([1, 2, 3]);
  });

  it('a reconnect with since = its last seq gets everything missed, nothing twice', async () => {
    const user = uniqueUser('reconnect');
    const first = await open(user);
    await connected(first);
    await publishTitles(user, ['a', 'b', 'c']);
    const seen = await first.waitForSeq(3);
    const lastSeq = seen.at(-1)!.seq!;
    await first.close();
    await expect.poll(() => gateway.herald.isConnected(user)).toBe(false);

    // Missed while away: a batch, a single publish and a mark-read.
    const [n1] = await publishTitles(user, ['d', 'e']);
    await publishTitles(user, ['f']);
    const read = await gateway.asUser(user, '/notifications/mark-read', { body: { notification_ids: [n1!.notification_id] } });
    expect(read.status).toBe(200);

    const second = await open(user, lastSeq);
    expect(await connected(second)).toMatchObject({ seq: 7, since: 3 });
    await second.waitForSeq(7);
    await publishTitles(user, ['h']);
    const events = await second.waitForSeq(8);
    expect(seqs(events)).toEqual([4, 5, 6, 7, 8]);
    expect(events.map((event) => event.type)).toEqual(['new_notification', 'task_update', 'new_notification', 'notification_read', 'new_notification']);
    expect(events[3]!.payload).toEqual({ notification_ids: [n1!.notification_id], counts: { unread: 3, unseen: 3, categories: {} } });
    expect(seqs([...seen, ...events])).toEqual(range(1, 8));
  });

  it('pushes mark-read and mark-all-read to every tab with a seq, and replays them on resume', async () => {
    const user = uniqueUser('read');
    const other = uniqueUser('read-other');
    const tabs = [await open(user), await open(user)];
    await Promise.all(tabs.map(connected));
    const published = await gateway.publish(
      ['x', 'y', 'z'].map((title) => ({ user_id: user, type: 'new_notification', payload: { title } })),
    );
    const ids: string[] = published.body.events.map((event: { notification_id: string }) => event.notification_id);
    const foreign = await gateway.publish({ user_id: other, type: 'new_notification', payload: { title: 'not yours' } });
    const foreignId: string = foreign.body.events[0].notification_id;
    for (const tab of tabs) await tab.waitForSeq(3);

    // Another user's id is ignored: only the caller's own ids that changed are reported and pushed.
    const markRead = await gateway.asUser(user, '/notifications/mark-read', {
      body: { notification_ids: [ids[0], foreignId, ids[1]] },
    });
    expect(markRead.status).toBe(200);
    expect([...markRead.body.notification_ids].sort()).toEqual([ids[0], ids[1]].sort());
    for (const tab of tabs) {
      const events = await tab.waitForSeq(4);
      expect(events[3]).toMatchObject({ type: 'notification_read', seq: 4 });
      expect([...events[3]!.payload.notification_ids].sort()).toEqual([ids[0], ids[1]].sort());
    }

    // Marking the same ids again changes nothing, so no event: the next event is all_read at seq 5.
    const again = await gateway.asUser(user, '/notifications/mark-read', { body: { notification_ids: [ids[0]] } });
    expect(again.body.notification_ids).toEqual([]);
    const all = await gateway.asUser(user, '/notifications/mark-all-read', { method: 'POST' });
    expect(all.status).toBe(200);
    for (const tab of tabs) {
      const events = await tab.waitForSeq(5);
      expect(events[4]).toEqual({ type: 'all_read', seq: 5, payload: { counts: { unread: 0, unseen: 0, categories: {} } } });
      expect(seqs(events)).toEqual([1, 2, 3, 4, 5]);
    }

    const resumed = await open(user, 3);
    expect(await connected(resumed)).toMatchObject({ seq: 5, since: 3 });
    const replayed = await resumed.waitForSeq(5);
    expect(replayed).toEqual(tabs[0]!.events.slice(3));

    // A resume frame on an open tab replays them too.
    tabs[1]!.send({ type: 'resume', payload: { since: 3 } });
    await tabs[1]!.waitFor((frames) => frames.filter((frame) => frame.seq !== undefined).length >= 7, 5000, 'the replay');
    expect(tabs[1]!.events.slice(5)).toEqual(tabs[0]!.events.slice(3));
    // The other user's stream got none of this.
    const otherTab = await open(other, 0);
    const otherEvents = await otherTab.waitForSeq(1);
    await publishTitles(other, ['later']);
    await otherTab.waitForSeq(2);
    expect(otherTab.events.map((event) => event.type)).toEqual(['new_notification', 'new_notification']);
    expect(otherEvents[0]!.payload.id).toBe(foreignId);
  });

  it('concurrent publishes from many parallel requests reach an open tab as a gapless, strictly increasing sequence', async () => {
    const user = uniqueUser('parallel');
    const tabs = [await open(user), await open(user)];
    await Promise.all(tabs.map(connected));
    const count = 120;
    const responses = await Promise.all(
      range(1, count).map((n) => gateway.publish({ user_id: user, type: 'new_notification', payload: { n } })),
    );
    expect(responses.map((response) => response.status)).toEqual(responses.map(() => 200));
    // Each request got its own seq: together exactly 1..count.
    expect(responses.map((response) => response.body.events[0].seq).sort((a: number, b: number) => a - b)).toEqual(range(1, count));
    for (const tab of tabs) {
      const events = await tab.waitForSeq(count, 15_000);
      expect(seqs(events)).toEqual(range(1, count));
      expect(new Set(events.map((event) => event.payload.payload.n)).size).toBe(count);
    }
    // Both tabs saw the same event under each seq.
    expect(tabs[1]!.events).toEqual(tabs[0]!.events);
  });

  it('a client connecting with since=0 while events keep arriving ends with every seq exactly once, in order', async () => {
    const user = uniqueUser('race');
    const watcher = await open(user);
    await connected(watcher);
    const total = 300;
    let next = 1;
    const item = () => ({ user_id: user, type: 'new_notification', payload: { n: next++ } });
    let late: TestClient | undefined;

    // Rounds of parallel requests: two batches of 10 and 10 single publishes each (30 events a round).
    const rounds = total / 30;
    for (let round = 0; round < rounds; round++) {
      const requests = [
        gateway.publish(Array.from({ length: 10 }, item)),
        gateway.publish(Array.from({ length: 10 }, item)),
        ...Array.from({ length: 10 }, () => gateway.publish(item())),
      ];
      // Mid-stream, while this round's requests are in flight, the second client connects and replays from 0.
      if (round === 3) late = await open(user, 0);
      const responses = await Promise.all(requests);
      expect(responses.every((response) => response.status === 200)).toBe(true);
    }
    const lateConnected = await connected(late!);
    expect(lateConnected.since).toBe(0);
    expect(lateConnected.seq).toBeLessThan(total);

    const lateEvents = await late!.waitForSeq(total, 20_000);
    const watcherEvents = await watcher.waitForSeq(total, 20_000);
    expect(seqs(lateEvents)).toEqual(range(1, total));
    expect(seqs(watcherEvents)).toEqual(range(1, total));
    // The replayed part and the live part are the same events the watcher saw live.
    expect(lateEvents).toEqual(watcherEvents);
    expect(new Set(lateEvents.map((event) => event.payload.payload.n)).size).toBe(total);
  });

  it('a reconnect with since = last seq while events keep arriving misses nothing and repeats nothing', async () => {
    const user = uniqueUser('race-reconnect');
    const total = 150;
    let next = 1;
    const item = () => ({ user_id: user, type: 'task_update', payload: { action: 'progress', task: { n: next++ } } });
    const first = await open(user);
    await connected(first);
    let second: TestClient | undefined;
    let seenByFirst: Frame[] = [];
    for (let round = 0; round < total / 15; round++) {
      const requests = [gateway.publish(Array.from({ length: 5 }, item)), ...Array.from({ length: 10 }, () => gateway.publish(item()))];
      if (round === 4) {
        // Drop the first tab mid-stream and come back from the last seq it saw.
        first.ws.terminate();
        await first.closed;
        seenByFirst = [...first.events];
        second = await open(user, seenByFirst.at(-1)?.seq ?? 0);
      }
      await Promise.all(requests);
    }
    const rest = await second!.waitForSeq(total, 20_000);
    expect(seqs(seenByFirst)).toEqual(range(1, seenByFirst.length));
    expect(seqs([...seenByFirst, ...rest])).toEqual(range(1, total));
  });
});

/**
 * The real store with one addition at the Store seam: the next headSeq read of a chosen user can be held until
 * the test lets it go, to force one ordering of two reads that race on a pooled database.
 */
function holdingStore(inner: Store) {
  let held: { userId: string; gate: Latch } | undefined;
  let heldAnswer: { userId: string; gate: Latch; read: Latch } | undefined;
  let heldAppend: { userId: string; gate: Latch; committed: Latch } | undefined;
  const watchers = new Map<string, () => void>();
  // StreamSync reads a connection's head with its floor, in one read: that read is the one held.
  const readBounds = async (userId: string) => {
    if (held?.userId === userId) {
      const { gate } = held;
      held = undefined;
      await gate.reached;
      return inner.streamBounds(userId);
    }
    const bounds = await inner.streamBounds(userId);
    watchers.get(userId)?.();
    if (heldAnswer?.userId === userId) {
      const { gate, read } = heldAnswer;
      heldAnswer = undefined;
      read.open();
      await gate.reached;
    }
    return bounds;
  };
  const store: Store = {
    migrate: () => inner.migrate(),
    append: async (inputs) => {
      const stored = await inner.append(inputs);
      if (heldAppend !== undefined && inputs.some((input) => input.userId === heldAppend!.userId)) {
        // Committed, but the result reaches delivery only when released, as a slow node's would.
        const { gate, committed } = heldAppend;
        heldAppend = undefined;
        committed.open();
        await gate.reached;
      }
      return stored;
    },
    markRead: (userId, ids) => inner.markRead(userId, ids),
    markAllRead: (userId) => inner.markAllRead(userId),
    eventsAfter: (userId, since, limit) => inner.eventsAfter(userId, since, limit),
    headSeq: async (userId) => (await readBounds(userId)).headSeq,
    streamBounds: (userId) => readBounds(userId),
    changeNotifications: (userId, change, target) => inner.changeNotifications(userId, change, target),
    recordAction: (userId, id, action) => inner.recordAction(userId, id, action),
    eraseUser: (userId) => inner.eraseUser(userId),
    sweep: (options) => inner.sweep(options),
    counts: (userId) => inner.counts(userId),
    listNotifications: (userId, query) => inner.listNotifications(userId, query),
    unreadCount: (userId) => inner.unreadCount(userId),
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
  return {
    store,
    /** Holds the next headSeq read of `userId`; call the returned function to let it finish. */
    holdNextHeadRead(userId: string): () => void {
      held = { userId, gate: latch() };
      return held.gate.open;
    },
    /** Reads the next head of `userId` at once but answers only on `release`: `read` resolves when it was read. */
    holdNextHeadAnswer(userId: string): { read: Promise<void>; release: () => void } {
      heldAnswer = { userId, gate: latch(), read: latch() };
      return { read: heldAnswer.read.reached, release: heldAnswer.gate.open };
    },
    /**
     * Holds the result of the next append for `userId` after it has committed: `committed` resolves then, and
     * the result goes on to delivery when `release` is called.
     */
    holdNextAppend(userId: string): { committed: Promise<void>; release: () => void } {
      heldAppend = { userId, gate: latch(), committed: latch() };
      return { committed: heldAppend.committed.reached, release: heldAppend.gate.open };
    },
    /** Resolves once a headSeq read of `userId` that was not held has been answered. */
    headRead(userId: string): Promise<void> {
      return new Promise((resolve) => watchers.set(userId, resolve));
    },
  };
}

describe('races forced at the Store seam', () => {
  let gateway: TestGateway;
  let herald: Herald;
  let wsUrl: string;
  let control: ReturnType<typeof holdingStore>;
  beforeAll(async () => {
    gateway = await startGateway('sqlite', {
      wrapStore: (store) => {
        control = holdingStore(store);
        return control.store;
      },
    });
    ({ herald, wsUrl } = gateway);
  });
  afterAll(() => gateway.close());

  it('a resume frame wins when its head read finishes before the connection\'s own (as on PostgreSQL with two pooled connections)', async () => {
    const user = uniqueUser('resume-first');
    await herald.publish(['a', 'b', 'c'].map((title) => ({ user_id: user, type: 'new_notification' as const, payload: { title } })));
    // The connection's start-up read of the head waits; the resume frame's read goes ahead of it.
    const release = control.holdNextHeadRead(user);
    const resumeRead = control.headRead(user);
    const client = await TestClient.open(wsUrl, await mintToken(TEST_SECRET, user));
    client.send({ type: 'resume', payload: { since: 0 } });
    await resumeRead;
    // Every reaction to the answered read (promise continuations) runs before a setImmediate callback.
    await new Promise((resolve) => setImmediate(resolve));
    release();
    const [connected] = await client.waitForType('connected');
    expect(connected?.payload).toMatchObject({ user_id: user, seq: 3, since: 3 });
    const events = await client.waitForSeq(3, 3000).catch(() => client.events);
    expect(seqs(events)).toEqual([1, 2, 3]);
    expect(events.map((event) => event.payload.payload.title)).toEqual(['a', 'b', 'c']);
    await herald.publish({ user_id: user, type: 'new_notification', payload: { title: 'd' } });
    expect(seqs(await client.waitForSeq(4))).toEqual([1, 2, 3, 4]);
    await client.close();
  });

  it('delivers an event stored after the head was read and before the connection went live, once', async () => {
    const user = uniqueUser('after-head');
    await herald.publish({ user_id: user, type: 'new_notification', payload: { title: 'a' } });
    const { read, release } = control.holdNextHeadAnswer(user);
    const client = await TestClient.open(wsUrl, await mintToken(TEST_SECRET, user));
    await read;
    // Stored as seq 2 and offered while the connection still waits for its head (1): it must not fall between.
    await herald.publish({ user_id: user, type: 'new_notification', payload: { title: 'b' } });
    release();
    const [connected] = await client.waitForType('connected');
    expect(connected?.payload).toMatchObject({ user_id: user, seq: 1, since: 1 });
    const events = await client.waitForSeq(2, 3000).catch(() => client.events);
    expect(seqs(events)).toEqual([2]);
    expect(events[0]?.payload.payload.title).toBe('b');
    await herald.publish({ user_id: user, type: 'new_notification', payload: { title: 'c' } });
    expect(seqs(await client.waitForSeq(3))).toEqual([2, 3]);
    await client.close();
  });

  it('events offered out of seq order (a later commit delivered first) reach every tab in order, once each', async () => {
    const user = uniqueUser('out-of-order');
    const token = await mintToken(TEST_SECRET, user);
    const tabs = [await TestClient.open(wsUrl, token), await TestClient.open(wsUrl, token)];
    await Promise.all(tabs.map((tab) => tab.waitForType('connected')));
    // seq 1 commits first but its delivery is held; seq 2 commits after it and is delivered at once.
    const first = control.holdNextAppend(user);
    const publishFirst = herald.publish({ user_id: user, type: 'new_notification', payload: { title: 'one' } });
    await first.committed;
    const [second] = await herald.publish({ user_id: user, type: 'new_notification', payload: { title: 'two' } });
    expect(second?.seq).toBe(2);
    // Seeing 2 before 1, each tab reads 1 from the store: both arrive, in order, before 1 is even offered.
    for (const tab of tabs) {
      const events = await tab.waitForSeq(2);
      expect(seqs(events)).toEqual([1, 2]);
    }
    first.release();
    expect((await publishFirst)[0]?.seq).toBe(1);
    // The late offer of 1 is dropped as already sent: the next event follows 2 directly.
    await herald.publish({ user_id: user, type: 'new_notification', payload: { title: 'three' } });
    for (const tab of tabs) {
      const events = await tab.waitForSeq(3);
      expect(seqs(events)).toEqual([1, 2, 3]);
      expect(events.map((event) => event.payload.payload.title)).toEqual(['one', 'two', 'three']);
      await tab.close();
    }
  });
});
