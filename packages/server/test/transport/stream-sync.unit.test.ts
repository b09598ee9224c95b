import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hub } from '../../src/hub/hub.js';
import type { Metrics } from '../../src/metrics.js';
import { EVENTS_PAGE_BYTES, type Store, type StoredEvent } from '../../src/store/store.js';
import type { Connection } from '../../src/transport/connection.js';
import { OPENING_STAMP } from '../../src/transport/stream-cursor.js';
import { StreamSync } from '../../src/transport/stream-sync.js';
import { latch, type Latch } from '../helpers/latch.js';
import { counterValue, framesArrived, SocketPairs, testMetrics, type ClientSide } from '../helpers/socket-pair.js';

const pairs = new SocketPairs();
beforeAll(() => pairs.start());
afterAll(() => pairs.stop());

/**
 * The Store seam, in memory: each user's stream, a log of the reads, and reads that a test can hold to force one
 * ordering of a read and a live event. A held read has taken its answer already and hands it over on release,
 * as a query that finished on the database but whose answer is still on its way.
 */
class MemoryStore implements Store {
  readonly streams = new Map<string, StoredEvent[]>();
  readonly reads: string[] = [];
  /** The maxBytes of each events read, in order. */
  readonly budgets: number[] = [];
  headError: Error | undefined;
  eventsError: Error | undefined;
  /** How long each events read takes (ms), and the most reads that were under way at once. */
  eventsDelayMs = 0;
  mostEventsReadsAtOnce = 0;
  #eventsReads = 0;
  #holdHead: { userId: string; gate: Latch; taken: Latch } | undefined;
  #holdEvents: { userId: string; gate: Latch; taken: Latch } | undefined;

  /** Stores `count` more events of `userId`, numbered on from its head; returns them. */
  add(userId: string, count: number, payload: Record<string, unknown> = {}): StoredEvent[] {
    const stream = this.streams.get(userId) ?? [];
    this.streams.set(userId, stream);
    const added = Array.from({ length: count }, (_, i): StoredEvent => ({
      userId,
      seq: stream.length + i + 1,
      type: 'task_update',
      payload: { n: stream.length + i + 1, ...payload },
      createdAt: '2026-12-01T00:00:00.000Z',
    }));
    stream.push(...added);
    return added;
  }

  holdNextHead(userId: string): { taken: Promise<void>; release: () => void } {
    this.#holdHead = { userId, gate: latch(), taken: latch() };
    return { taken: this.#holdHead.taken.reached, release: this.#holdHead.gate.open };
  }

  holdNextEvents(userId: string): { taken: Promise<void>; release: () => void } {
    this.#holdEvents = { userId, gate: latch(), taken: latch() };
    return { taken: this.#holdEvents.taken.reached, release: this.#holdEvents.gate.open };
  }

  async headSeq(userId: string): Promise<number> {
    this.reads.push(`head ${userId}`);
    if (this.headError) throw this.headError;
    const head = this.streams.get(userId)?.length ?? 0;
    const hold = this.#holdHead?.userId === userId ? this.#holdHead : undefined;
    if (hold) {
      this.#holdHead = undefined;
      hold.taken.open();
      await hold.gate.reached;
    }
    return head;
  }

  async eventsAfter(userId: string, since: number, limit: number, maxBytes = EVENTS_PAGE_BYTES): Promise<StoredEvent[]> {
    this.reads.push(`events ${userId} after ${since} limit ${limit}`);
    this.budgets.push(maxBytes);
    if (this.eventsError) throw this.eventsError;
    if (this.eventsDelayMs > 0) {
      this.mostEventsReadsAtOnce = Math.max(this.mostEventsReadsAtOnce, ++this.#eventsReads);
      await new Promise((resolve) => setTimeout(resolve, this.eventsDelayMs));
      this.#eventsReads--;
    }
    const events = withinBudget((this.streams.get(userId) ?? []).filter((event) => event.seq > since).slice(0, limit), maxBytes);
    const hold = this.#holdEvents?.userId === userId ? this.#holdEvents : undefined;
    if (hold) {
      this.#holdEvents = undefined;
      hold.taken.open();
      await hold.gate.reached;
    }
    return events;
  }

  /** The head read as StreamSync reads it; `floors` holds what retention removed from a stream. */
  readonly floors = new Map<string, number>();
  async streamBounds(userId: string): Promise<{ headSeq: number; floorSeq: number }> {
    return { headSeq: await this.headSeq(userId), floorSeq: this.floors.get(userId) ?? 0 };
  }

  migrate = unused;
  append = unused;
  markRead = unused;
  markAllRead = unused;
  changeNotifications = unused;
  recordAction = unused;
  eraseUser = unused;
  sweep = unused;
  listNotifications = unused;
  unreadCount = unused;
  counts = unused;
  ping = unused;
  close = unused;
}

/** The Store's size cut: events up to the first one whose predecessors on the page reach `maxBytes`. */
function withinBudget(events: StoredEvent[], maxBytes: number): StoredEvent[] {
  let before = 0;
  const page: StoredEvent[] = [];
  for (const event of events) {
    if (before >= maxBytes) break;
    page.push(event);
    before += Buffer.byteLength(JSON.stringify(event.payload));
  }
  return page;
}

async function unused(): Promise<never> {
  throw new Error('not used by StreamSync');
}

interface Setup {
  store: MemoryStore;
  hub: Hub<Connection>;
  metrics: Metrics;
  sync: StreamSync;
  errors: { connection: Connection; error: unknown }[];
  /** A connection of `userId`, added to the hub as admission does before the stream opens. */
  tab(userId: string, maxBufferedBytes?: number): Promise<{ connection: Connection; client: ClientSide }>;
}

/** HERALD_REPLAY_PAGE_SIZE's, HERALD_MAX_BUFFERED_BYTES's and HERALD_RESYNC_CONCURRENCY's defaults, unless a test sets its own. */
function setup(options: { pageSize?: number; maxBufferedBytes?: number; resyncConcurrency?: number } = {}): Setup {
  const store = new MemoryStore();
  const hub = new Hub<Connection>({ maxConnectionsPerUser: 100, maxConnectionsPerAddress: 100 });
  const metrics = testMetrics();
  const errors: Setup['errors'] = [];
  const sync = new StreamSync({
    store,
    hub,
    metrics,
    pingIntervalMs: 25_000,
    replayPageSize: options.pageSize ?? 500,
    maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024 + 64 * 1024,
    resyncConcurrency: options.resyncConcurrency ?? 16,
    onError: (connection, error) => errors.push({ connection, error }),
  });
  let id = 1;
  return {
    store,
    hub,
    metrics,
    sync,
    errors,
    async tab(userId, maxBufferedBytes) {
      const made = await pairs.connection(userId, { id: id++, metrics, ...(maxBufferedBytes && { maxBufferedBytes }) });
      expect(hub.add(made.connection)).toBeUndefined();
      return made;
    },
  };
}

/** The seqs of the stream events a client received, in order. */
function seqsOf(client: ClientSide): number[] {
  return client.frames.map((text) => JSON.parse(text)).filter((frame) => 'seq' in frame && frame.type !== 'connected').map((frame) => frame.seq);
}

async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 30));
}

describe('StreamSync.open', () => {
  it('starts a client without since at the head, without reading events, and then delivers live', async () => {
    const s = setup();
    s.store.add('u', 3);
    const { connection, client } = await s.tab('u');
    await s.sync.open(connection, undefined);
    expect(await framesArrived(client, 1)).toEqual([
      { type: 'connected', payload: { user_id: 'u', seq: 3, since: 3, ping_interval_ms: 25_000 } },
    ]);
    expect(s.store.reads).toEqual(['head u']);
    expect(connection.isLive).toBe(true);
    expect(connection.lastSeq).toBe(3);
    const [fourth] = s.store.add('u', 1);
    s.sync.deliver(fourth!);
    await framesArrived(client, 2);
    expect(seqsOf(client)).toEqual([4]);
    expect(await counterValue(s.metrics.eventsDelivered)).toBe(1);
  });

  it('replays from since, in order, and then goes live', async () => {
    const s = setup();
    s.store.add('u', 3);
    const { connection, client } = await s.tab('u');
    await s.sync.open(connection, 1);
    await framesArrived(client, 3);
    expect(JSON.parse(client.frames[0]!).payload).toMatchObject({ seq: 3, since: 1 });
    expect(seqsOf(client)).toEqual([2, 3]);
    expect(connection.isLive).toBe(true);
    expect(await counterValue(s.metrics.eventsDelivered)).toBe(2);
    s.sync.deliver(s.store.add('u', 1)[0]!);
    await framesArrived(client, 4);
    expect(seqsOf(client)).toEqual([2, 3, 4]);
  });

  it('starts a client ahead of the store (a reset database) at the head', async () => {
    const s = setup();
    s.store.add('u', 3);
    const { connection, client } = await s.tab('u');
    await s.sync.open(connection, 10);
    const [connected] = (await framesArrived(client, 1)) as { payload: unknown }[];
    expect(connected!.payload).toMatchObject({ seq: 3, since: 3 });
    expect(connection.lastSeq).toBe(3);
    expect(connection.isLive).toBe(true);
  });

  it('reads page after page until a short page, with the configured page size', async () => {
    const s = setup({ pageSize: 2 });
    s.store.add('u', 4);
    const { connection, client } = await s.tab('u');
    await s.sync.open(connection, 0);
    expect(s.store.reads).toEqual(['head u', 'events u after 0 limit 2', 'events u after 2 limit 2', 'events u after 4 limit 2']);
    await framesArrived(client, 5);
    expect(seqsOf(client)).toEqual([1, 2, 3, 4]);
  });

  it('reads 500 events a page with HERALD_REPLAY_PAGE_SIZE’s default', async () => {
    const s = setup();
    s.store.add('u', 2);
    const { connection } = await s.tab('u');
    await s.sync.open(connection, 0);
    expect(s.store.reads).toEqual(['head u', 'events u after 0 limit 500']);
  });

  it('reads again when an event was offered while it read (the goal past the page)', async () => {
    const s = setup();
    s.store.add('u', 3);
    const { connection, client } = await s.tab('u');
    const held = s.store.holdNextEvents('u');
    const opened = s.sync.open(connection, 0);
    await held.taken;
    s.sync.deliver(s.store.add('u', 1)[0]!);
    expect(connection.isLive).toBe(false);
    held.release();
    await opened;
    expect(s.store.reads).toEqual(['head u', 'events u after 0 limit 500', 'events u after 3 limit 500']);
    await framesArrived(client, 5);
    expect(seqsOf(client)).toEqual([1, 2, 3, 4]);
    expect(connection.isLive).toBe(true);
  });

  it('reads the store when an event was offered between the head read and going live', async () => {
    const s = setup();
    s.store.add('u', 3);
    const { connection, client } = await s.tab('u');
    const held = s.store.holdNextHead('u');
    const opened = s.sync.open(connection, undefined);
    await held.taken;
    s.sync.deliver(s.store.add('u', 1)[0]!);
    held.release();
    await opened;
    expect(s.store.reads).toEqual(['head u', 'events u after 3 limit 500']);
    await framesArrived(client, 2);
    expect(seqsOf(client)).toEqual([4]);
  });

  it('reads the store for a client that asked for the head but was not at it when the head was read', async () => {
    const s = setup();
    s.store.add('u', 3);
    const { connection, client } = await s.tab('u');
    const held = s.store.holdNextHead('u');
    const opened = s.sync.open(connection, undefined);
    await held.taken;
    // A resume frame while the head read waits: the client's later word, from seq 1.
    await s.sync.resume(connection, 1);
    held.release();
    await opened;
    await framesArrived(client, 3);
    expect(seqsOf(client)).toEqual([2, 3]);
    expect(JSON.parse(client.frames[0]!).payload).toMatchObject({ seq: 3, since: 3 });
  });

  // Admission (its refusals and their count) comes before open now: test/hub/admission.unit.test.ts.
  it('stops after the head read for a connection that closed before its stream opened', async () => {
    const s = setup();
    s.store.add('u', 3);
    const { connection, client } = await s.tab('u');
    connection.close(1000, 'gone');
    await s.sync.open(connection, 0);
    expect(s.store.reads).toEqual(['head u']);
    expect(connection.isLive).toBe(false);
    expect(connection.lastSeq).toBe(0);
    expect(await client.closed).toEqual({ code: 1000, reason: 'gone' });
    expect(client.frames).toEqual([]);
  });

  it('stops when the connection closed during the head read', async () => {
    const s = setup();
    s.store.add('u', 3);
    const { connection } = await s.tab('u');
    const held = s.store.holdNextHead('u');
    const opened = s.sync.open(connection, 0);
    await held.taken;
    connection.close(1000, 'gone');
    held.release();
    await opened;
    expect(s.store.reads).toEqual(['head u']);
  });

  it('hands a failed head read to onError', async () => {
    const s = setup();
    const failure = new Error('database down');
    s.store.headError = failure;
    const { connection, client } = await s.tab('u');
    await s.sync.open(connection, 0);
    expect(s.errors).toEqual([{ connection, error: failure }]);
    await settle();
    expect(client.frames).toEqual([]);
  });

  it('hands a failed replay read to onError and stays behind', async () => {
    const s = setup();
    s.store.add('u', 2);
    const failure = new Error('read failed');
    s.store.eventsError = failure;
    const { connection } = await s.tab('u');
    await s.sync.open(connection, 0);
    expect(s.errors).toEqual([{ connection, error: failure }]);
    expect(connection.isLive).toBe(false);
  });

  it('throws away a page read for a position that a resume replaced', async () => {
    const s = setup();
    s.store.add('u', 3);
    const { connection, client } = await s.tab('u');
    const held = s.store.holdNextEvents('u');
    const opened = s.sync.open(connection, 0);
    await held.taken;
    await s.sync.resume(connection, 2);
    held.release();
    await opened;
    await framesArrived(client, 2);
    await settle();
    expect(seqsOf(client)).toEqual([3]);
    expect(s.store.reads.filter((read) => read.startsWith('events'))).toEqual(['events u after 0 limit 500', 'events u after 2 limit 500']);
  });

  it('replays events larger than the bound one at a time instead of closing the tab, then goes live', async () => {
    const s = setup();
    // Stored before the bound was lowered: each frame is over the 300-byte bound on its own.
    s.store.add('u', 3, { text: 'x'.repeat(400) });
    const { connection, client } = await s.tab('u', 300);
    await s.sync.open(connection, 0);
    await framesArrived(client, 4);
    expect(seqsOf(client)).toEqual([1, 2, 3]);
    expect(connection.closed).toBe(false);
    expect(connection.isLive).toBe(true);
    expect(await counterValue(s.metrics.drops, { reason: 'slow_consumer' })).toBe(0);
    // Live events of a normal size still go out after them.
    s.sync.deliver(s.store.add('u', 1)[0]!);
    await framesArrived(client, 5);
    expect(seqsOf(client)).toEqual([1, 2, 3, 4]);
  });

  it('sends nothing from a page read for a connection that closed meanwhile', async () => {
    const s = setup();
    s.store.add('u', 3);
    const { connection } = await s.tab('u');
    const held = s.store.holdNextEvents('u');
    const opened = s.sync.open(connection, 0);
    await held.taken;
    connection.close(1000, 'gone');
    held.release();
    await opened;
    expect(await counterValue(s.metrics.drops, { reason: 'closed' })).toBe(0);
    expect(connection.lastSeq).toBe(0);
  });

  describe('with a client that stopped reading', () => {
    // 16 KiB frames against a 64 KiB bound: a page of 400 (6.4 MB) fills the kernel's buffers, and then only
    // waiting for the socket to drain keeps the replay from judging a healthy client slow.
    const bound = 64 * 1024;
    const events = 400;
    const text = 'x'.repeat(16 * 1024);

    async function stalled() {
      const s = setup();
      s.store.add('u', events, { text });
      const tab = await s.tab('u', bound);
      tab.client.socket.pause();
      const opened = s.sync.open(tab.connection, 0);
      // Until the replay waits on the full socket.
      const deadline = Date.now() + 5000;
      while (tab.connection.ws.bufferedAmount === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      await settle();
      return { ...s, ...tab, opened };
    }

    it('waits for the socket to drain instead of closing it, and then sends every event', async () => {
      const { connection, client, opened } = await stalled();
      expect(connection.closed).toBe(false);
      expect(connection.lastSeq).toBeLessThan(events);
      client.socket.resume();
      await opened;
      await framesArrived(client, events + 1, 10_000);
      expect(seqsOf(client)).toEqual(Array.from({ length: events }, (_, i) => i + 1));
      expect(connection.closed).toBe(false);
    });

    it('stops at once when the connection closes while it waits', async () => {
      const s = await stalled();
      const sentBefore = s.connection.lastSeq;
      s.connection.close(1000, 'gone');
      s.client.socket.resume();
      await s.opened;
      expect(s.connection.lastSeq).toBe(sentBefore);
      expect(await counterValue(s.metrics.drops, { reason: 'closed' })).toBe(0);
    });

    it('leaves the rest of the page to a resume that came while it waited', async () => {
      const s = await stalled();
      const sentBefore = s.connection.lastSeq;
      await s.sync.resume(s.connection, events - 1);
      s.client.socket.resume();
      await s.opened;
      await framesArrived(s.client, sentBefore + 2, 10_000);
      await settle();
      // What went out before the resume, then only what the resume asked for.
      const seqs = seqsOf(s.client);
      expect(seqs.slice(0, sentBefore)).toEqual(Array.from({ length: sentBefore }, (_, i) => i + 1));
      expect(seqs.slice(sentBefore)).toEqual([events]);
      expect(s.connection.isLive).toBe(true);
    });
  });

  it('paces a replay of frames larger than half the bound, sending every one in order', async () => {
    const s = setup();
    s.store.add('u', 6, { text: 'x'.repeat(400) });
    const { connection, client } = await s.tab('u', 1000);
    await s.sync.open(connection, 0);
    await framesArrived(client, 7);
    expect(seqsOf(client)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(connection.closed).toBe(false);
    expect(connection.lastSeq).toBe(6);
    expect(connection.isLive).toBe(true);
  });

  describe('pages cut by size', () => {
    /** An event's payload text as the store measures it: `{"n":1,"text":"xx…"}` with `text` of `length`. */
    function sized(seq: number, length: number): number {
      return Buffer.byteLength(JSON.stringify({ n: seq, text: 'x'.repeat(length) }));
    }

    it('asks for half the slow-consumer bound per page, and never more than the store’s default', async () => {
      for (const [bound, expected] of [
        [64 * 1024, 32 * 1024],
        [1024 * 1024, EVENTS_PAGE_BYTES],
        [16 * 1024 * 1024, EVENTS_PAGE_BYTES],
      ] as const) {
        const s = setup({ maxBufferedBytes: bound });
        s.store.add('u', 2);
        const { connection } = await s.tab('u');
        await s.sync.open(connection, 0);
        expect(s.store.budgets, `bound ${bound}`).toEqual([expected]);
      }
    });

    it('reads on after a page that the byte budget cut short of the count, and goes live only at the end', async () => {
      // A 4 KiB bound asks for 2 KiB pages: 1,000-byte payloads come three to a page (2,000 bytes precede the third).
      const s = setup({ maxBufferedBytes: 4096 });
      s.store.add('u', 10, { text: 'x'.repeat(1000 - sized(1, 0)) });
      expect(sized(1, 1000 - sized(1, 0))).toBe(1000);
      const { connection, client } = await s.tab('u');
      await s.sync.open(connection, 0);
      expect(s.store.reads.filter((read) => read.startsWith('events'))).toEqual([
        'events u after 0 limit 500',
        'events u after 3 limit 500',
        'events u after 6 limit 500',
        'events u after 9 limit 500',
      ]);
      await framesArrived(client, 11);
      expect(seqsOf(client)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      expect(connection.isLive).toBe(true);
    });

    it('reads once more after a short page that reached the budget exactly', async () => {
      const s = setup({ maxBufferedBytes: 4096 });
      // Two 1,024-byte payloads fill the 2,048-byte budget: the page ends there, and the end is not known yet.
      s.store.add('u', 2, { text: 'x'.repeat(1024 - sized(1, 0)) });
      const { connection, client } = await s.tab('u');
      await s.sync.open(connection, 0);
      expect(s.store.reads.filter((read) => read.startsWith('events'))).toEqual(['events u after 0 limit 500', 'events u after 2 limit 500']);
      await framesArrived(client, 3);
      expect(seqsOf(client)).toEqual([1, 2]);
      expect(connection.isLive).toBe(true);
    });
  });

  it('lets timers and other sockets run between the pages of a long replay', async () => {
    // Small frames to a reading client: every write completes at once and its callback comes on the next tick, so
    // only the replay's own yield lets an immediate in.
    const s = setup({ pageSize: 20 });
    const events = 600;
    s.store.add('u', events);
    const { connection, client } = await s.tab('u');
    const seenAt: number[] = [];
    let replaying = true;
    const watch = (): void => {
      seenAt.push(connection.lastSeq);
      if (replaying) setImmediate(watch);
    };
    setImmediate(watch);
    await s.sync.open(connection, 0);
    replaying = false;
    const during = seenAt.filter((seq) => seq > 0 && seq < events);
    // Once between every two pages, and only there (after a whole page was sent).
    expect(during.length).toBeGreaterThanOrEqual(events / 20 - 1);
    expect(during.every((seq) => seq % 20 === 0)).toBe(true);
    await framesArrived(client, events + 1);
    expect(seqsOf(client)).toEqual(Array.from({ length: events }, (_, i) => i + 1));
  });
});

describe('StreamSync.deliver', () => {
  it('does nothing for a user with no tab here', async () => {
    const s = setup();
    s.sync.deliver(s.store.add('nobody', 1)[0]!);
    expect(await counterValue(s.metrics.eventsDelivered)).toBe(0);
  });

  it('sends to every live tab, skips the ones catching up, and counts what it sent', async () => {
    const s = setup();
    s.store.add('u', 1);
    const a = await s.tab('u');
    const b = await s.tab('u');
    await s.sync.open(a.connection, undefined);
    await s.sync.open(b.connection, undefined);
    const behind = await s.tab('u');
    s.sync.deliver(s.store.add('u', 1)[0]!);
    await framesArrived(a.client, 2);
    await framesArrived(b.client, 2);
    expect(seqsOf(a.client)).toEqual([2]);
    expect(seqsOf(b.client)).toEqual([2]);
    expect(behind.client.frames).toEqual([]);
    expect(behind.connection.isLive).toBe(false);
    expect(behind.connection.lastSeq).toBe(0);
    expect(await counterValue(s.metrics.eventsDelivered)).toBe(2);
  });

  it('catches a tab up from the store when a live event shows a gap', async () => {
    const s = setup();
    s.store.add('u', 1);
    const { connection, client } = await s.tab('u');
    await s.sync.open(connection, undefined);
    s.store.add('u', 2);
    s.sync.deliver(s.store.streams.get('u')![2]!);
    await framesArrived(client, 3);
    expect(seqsOf(client)).toEqual([2, 3]);
    expect(s.store.reads).toEqual(['head u', 'events u after 1 limit 500']);
  });

  it('starts one reader for a gap, however many more events come while it reads', async () => {
    const s = setup();
    s.store.add('u', 1);
    const { connection, client } = await s.tab('u');
    await s.sync.open(connection, undefined);
    s.store.add('u', 2);
    const held = s.store.holdNextEvents('u');
    s.sync.deliver(s.store.streams.get('u')![2]!);
    await held.taken;
    s.sync.deliver(s.store.add('u', 1)[0]!);
    s.sync.deliver(s.store.add('u', 1)[0]!);
    held.release();
    await framesArrived(client, 5);
    await settle();
    expect(seqsOf(client)).toEqual([2, 3, 4, 5]);
    expect(s.store.reads).toEqual(['head u', 'events u after 1 limit 500', 'events u after 3 limit 500']);
    expect(connection.isLive).toBe(true);
  });

  it('counts only what reached a socket’s queue, not a send to a tab that closed', async () => {
    const s = setup();
    const open = await s.tab('u');
    const closing = await s.tab('u');
    await s.sync.open(open.connection, undefined);
    await s.sync.open(closing.connection, undefined);
    // Closed, and its close event not handled yet: still in the hub, and its cursor is live.
    closing.connection.close(1000, 'bye');
    s.sync.deliver(s.store.add('u', 1)[0]!);
    await framesArrived(open.client, 2);
    expect(await counterValue(s.metrics.eventsDelivered)).toBe(1);
    expect(await counterValue(s.metrics.drops, { reason: 'closed' })).toBe(1);
    expect(closing.connection.lastSeq).toBe(0);
  });
});

describe('StreamSync.resume', () => {
  it('replays after since again, whatever was sent', async () => {
    const s = setup();
    s.store.add('u', 3);
    const { connection, client } = await s.tab('u');
    await s.sync.open(connection, undefined);
    await s.sync.resume(connection, 1);
    await framesArrived(client, 3);
    expect(seqsOf(client)).toEqual([2, 3]);
    expect(connection.stamp).toBe(OPENING_STAMP + 1);
    expect(connection.lastSeq).toBe(3);
    expect(connection.isLive).toBe(true);
  });

  it('resumes a client ahead of the store from the head with a reset, and nothing to replay', async () => {
    const s = setup();
    s.store.add('u', 3);
    const { connection, client } = await s.tab('u');
    await s.sync.open(connection, undefined);
    await s.sync.resume(connection, 9);
    expect(connection.lastSeq).toBe(3);
    await settle();
    expect(client.frames.map((text) => JSON.parse(text))).toEqual([
      expect.objectContaining({ type: 'connected' }),
      { type: 'reset', payload: { seq: 3 } },
    ]);
  });

  it.each([
    ['opens', undefined],
    ['resumes', 'resume'],
  ])('%s from before the floor with a reset at the head, and from the floor itself with a replay', async (_, how) => {
    const s = setup();
    s.store.add('u', 5);
    s.store.floors.set('u', 2);
    const start = async (since: number) => {
      const { connection, client } = await s.tab('u');
      if (how === undefined) await s.sync.open(connection, since);
      else {
        await s.sync.open(connection, undefined);
        await s.sync.resume(connection, since);
      }
      await settle();
      return { connection, frames: client.frames.map((text) => JSON.parse(text)) };
    };
    const before = await start(1);
    expect(before.frames.filter((frame) => frame.type !== 'connected')).toEqual([{ type: 'reset', payload: { seq: 5 } }]);
    expect(before.connection.lastSeq).toBe(5);
    const at = await start(2);
    expect(at.frames.filter((frame) => frame.type !== 'connected').map((frame) => frame.seq)).toEqual([3, 4, 5]);
  });

  it('hands a failed head read to onError', async () => {
    const s = setup();
    const { connection } = await s.tab('u');
    await s.sync.open(connection, undefined);
    const failure = new Error('down');
    s.store.headError = failure;
    await s.sync.resume(connection, 0);
    expect(s.errors).toEqual([{ connection, error: failure }]);
    expect(connection.stamp).toBe(OPENING_STAMP);
  });

  it('does nothing for a connection that closed during the head read', async () => {
    const s = setup();
    s.store.add('u', 3);
    const { connection } = await s.tab('u');
    await s.sync.open(connection, undefined);
    const held = s.store.holdNextHead('u');
    const resumed = s.sync.resume(connection, 0);
    await held.taken;
    connection.close(1000, 'gone');
    held.release();
    await resumed;
    expect(connection.stamp).toBe(OPENING_STAMP);
    expect(connection.lastSeq).toBe(3);
    expect(s.store.reads).toEqual(['head u', 'head u']);
  });

  it('leaves the replay to a catch-up already running', async () => {
    const s = setup();
    s.store.add('u', 3);
    const { connection, client } = await s.tab('u');
    const held = s.store.holdNextEvents('u');
    const opened = s.sync.open(connection, 0);
    await held.taken;
    await s.sync.resume(connection, 1);
    expect(s.store.reads.filter((read) => read.startsWith('events'))).toHaveLength(1);
    held.release();
    await opened;
    await framesArrived(client, 3);
    expect(seqsOf(client)).toEqual([2, 3]);
  });
});

describe('StreamSync.resyncAll and broadcast', () => {
  it('re-reads the store for every open, live connection, and only those', async () => {
    const s = setup();
    const live = await s.tab('live');
    const closed = await s.tab('closed');
    const behind = await s.tab('behind');
    s.store.add('live', 1);
    s.store.add('closed', 1);
    await s.sync.open(live.connection, undefined);
    await s.sync.open(closed.connection, undefined);
    closed.connection.close(1000, 'gone');
    // Missed while the link between nodes was down: no later event shows the gap.
    s.store.add('live', 2);
    s.store.add('closed', 2);
    s.store.reads.length = 0;
    await s.sync.resyncAll();
    expect(s.store.reads).toEqual(['events live after 1 limit 500']);
    await framesArrived(live.client, 3);
    expect(seqsOf(live.client)).toEqual([2, 3]);
    expect(behind.connection.isLive).toBe(false);
  });

  it('re-reads many connections, more than run at once', async () => {
    const s = setup();
    const tabs = [];
    for (let i = 0; i < 20; i++) {
      const tab = await s.tab(`user-${i}`);
      await s.sync.open(tab.connection, undefined);
      s.store.add(`user-${i}`, 1);
      tabs.push(tab);
    }
    await s.sync.resyncAll();
    for (const tab of tabs) {
      await framesArrived(tab.client, 2);
      expect(seqsOf(tab.client)).toEqual([1]);
    }
  });

  it('re-reads at most resyncConcurrency connections at once', async () => {
    const s = setup({ resyncConcurrency: 3 });
    for (let i = 0; i < 10; i++) await s.sync.open((await s.tab(`user-${i}`)).connection, undefined);
    s.store.eventsDelayMs = 20;
    await s.sync.resyncAll();
    expect(s.store.reads.filter((read) => read.startsWith('events'))).toHaveLength(10);
    expect(s.store.mostEventsReadsAtOnce).toBe(3);
  });

  it('starts no second reader for a connection already catching up: its one reader reads once more', async () => {
    const s = setup();
    s.store.add('u', 3);
    const { connection, client } = await s.tab('u');
    const held = s.store.holdNextEvents('u');
    const opened = s.sync.open(connection, 0);
    await held.taken;
    await s.sync.resyncAll();
    expect(s.store.reads).toEqual(['head u', 'events u after 0 limit 500']);
    held.release();
    await opened;
    await framesArrived(client, 4);
    expect(seqsOf(client)).toEqual([1, 2, 3]);
    // The page read before the resync is read again (it may predate what was missed), by the same reader.
    expect(s.store.reads).toEqual(['head u', 'events u after 0 limit 500', 'events u after 0 limit 500']);
  });

  // The reader's read above was taken before the resync, so events stored after that read and missed by the
  // broker (the reason for the resync) would be in no read: the recheck moves the stamp, and the reader reads
  // once more before it may go live.
  it('makes a connection already catching up read past what was missed before it goes live', async () => {
    const s = setup();
    s.store.add('u', 3);
    const { connection, client } = await s.tab('u');
    const held = s.store.holdNextEvents('u');
    const opened = s.sync.open(connection, 0);
    await held.taken;
    // Stored while the link between nodes was down: never offered here.
    s.store.add('u', 2);
    await s.sync.resyncAll();
    held.release();
    await opened;
    await framesArrived(client, 6, 500);
    expect(seqsOf(client)).toEqual([1, 2, 3, 4, 5]);
  });

  it('sends a broadcast to every connection, live or not', async () => {
    const s = setup();
    const a = await s.tab('a');
    const b = await s.tab('b');
    await s.sync.open(a.connection, undefined);
    s.sync.broadcast({ type: 'maintenance', payload: { at: 'noon' } });
    const [, broadcastA] = await framesArrived(a.client, 2);
    const [broadcastB] = await framesArrived(b.client, 1);
    expect(broadcastA).toEqual({ type: 'maintenance', broadcast: true, payload: { at: 'noon' } });
    expect(broadcastB).toEqual(broadcastA);
  });
});
