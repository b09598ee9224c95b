import { CloseCode } from '@herald/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../src/transport/connection.js';
import { OPENING_STAMP } from '../../src/transport/stream-cursor.js';
import { counterValue, framesArrived, SocketPairs, testMetrics } from '../helpers/socket-pair.js';

const pairs = new SocketPairs();
beforeAll(() => pairs.start());
afterAll(() => pairs.stop());

const frame = (text: string): Buffer => Buffer.from(text);

/** Places the connection at `seq` and lets it go live there, as StreamSync.open does for a tab at the head. */
function goLiveAt(connection: Connection, seq: number): void {
  connection.startAt(seq);
  expect(connection.tryGoLive(seq, OPENING_STAMP)).toBe(true);
}

describe('Connection', () => {
  it('starts behind, at seq 0, open, with no deadline, at the time it was made', async () => {
    const { connection } = await pairs.connection('u', { id: 7, address: '10.0.0.9', now: 1234 });
    expect(connection).toMatchObject({
      id: 7,
      userId: 'u',
      address: '10.0.0.9',
      lastSeq: 0,
      isLive: false,
      stamp: OPENING_STAMP,
      closed: false,
      lastSeenAt: 1234,
      nextPingAt: 1234,
      deadlineAt: Number.POSITIVE_INFINITY,
      tokenExpired: false,
      slot: -1,
      frameMillisTaken: 0,
      framesRefilledAt: 1234,
    });
  });

  it('starts with a full frame bucket at the time it was made, and only counts: closing is for its caller', async () => {
    const { connection, client } = await pairs.connection('u', { now: 1000 });
    const limit = { perSecond: 10, burst: 3 };
    expect([1, 2, 3, 4].map(() => connection.takeFrame(1000, limit))).toEqual([true, true, true, false]);
    expect(connection.takeFrame(1099, limit)).toBe(false);
    expect(connection.takeFrame(1100, limit)).toBe(true);
    expect(connection).toMatchObject({ frameMillisTaken: 3000, framesRefilledAt: 1100, closed: false });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(client.frames).toEqual([]);
  });

  it('sends a frame as text and says when it was written', async () => {
    const metrics = testMetrics();
    const { connection, client } = await pairs.connection('u', { metrics });
    const written = Promise.withResolvers<Error | null | undefined>();
    expect(connection.send(frame('{"a":1}'), (error) => written.resolve(error))).toBe(true);
    expect(await written.promise ?? undefined).toBeUndefined();
    expect(await framesArrived(client, 1)).toEqual([{ a: 1 }]);
    expect(client.binary).toEqual([false]);
    expect(await counterValue(metrics.messagesOut)).toBe(1);
  });

  it('sends nothing once closed, and counts the drop', async () => {
    const metrics = testMetrics();
    const { connection, client } = await pairs.connection('u', { metrics });
    connection.close(1000, 'bye');
    expect(connection.send(frame('{}'))).toBe(false);
    expect(await counterValue(metrics.drops, { reason: 'closed' })).toBe(1);
    expect(await counterValue(metrics.messagesOut)).toBe(0);
    expect(await client.closed).toEqual({ code: 1000, reason: 'bye' });
    expect(client.frames).toEqual([]);
  });

  it('sends a frame of exactly the bound and closes a slow consumer past it', async () => {
    const metrics = testMetrics();
    const { connection, client } = await pairs.connection('u', { metrics, maxBufferedBytes: 10 });
    expect(connection.send(frame('"12345678"'))).toBe(true);
    await framesArrived(client, 1);
    expect(connection.send(frame('"123456789"'))).toBe(false);
    expect(connection.closed).toBe(true);
    expect(await client.closed).toEqual({ code: CloseCode.SlowConsumer, reason: 'Slow consumer: too much unsent data' });
    expect(await counterValue(metrics.drops, { reason: 'slow_consumer' })).toBe(1);
    expect(await counterValue(metrics.messagesOut)).toBe(1);
    expect(client.frames).toEqual(['"12345678"']);
  });

  it('has room for up to half the bound', async () => {
    const { connection } = await pairs.connection('u', { maxBufferedBytes: 10 });
    expect(connection.hasRoomFor(5)).toBe(true);
    expect(connection.hasRoomFor(6)).toBe(false);
  });

  it('counts unsent data against the bound', async () => {
    const { connection, client } = await pairs.connection('u', { maxBufferedBytes: 64 * 1024 });
    client.socket.pause();
    const big = frame(`"${'x'.repeat(16 * 1024)}"`);
    // Past the kernel's buffers the data waits in ws: the bound then closes the connection.
    let sent = 0;
    while (connection.send(big)) sent++;
    expect(sent).toBeGreaterThan(0);
    expect(connection.ws.bufferedAmount).toBeGreaterThan(0);
    expect(connection.hasRoomFor(32 * 1024 - connection.ws.bufferedAmount + 1)).toBe(false);
    expect(connection.closed).toBe(true);
  });

  it('while catching up, skips live events and remembers the highest', async () => {
    const metrics = testMetrics();
    const { connection, client } = await pairs.connection('u', { metrics });
    expect(connection.offer(5, frame('{"seq":5}'))).toBe('skipped');
    expect(connection.offer(3, frame('{"seq":3}'))).toBe('skipped');
    expect(connection.offer(6, frame('{"seq":6}'))).toBe('skipped');
    expect(connection.lastSeq).toBe(0);
    // Held for the reader, not dropped as duplicates.
    expect(await counterValue(metrics.drops)).toBe(0);
    // The highest held offer is where the reader must get to before the tab may go live.
    for (let seq = 1; seq <= 5; seq++) connection.sent(seq);
    expect(connection.tryGoLive(5, OPENING_STAMP)).toBe(false);
    connection.sent(6);
    expect(connection.tryGoLive(6, OPENING_STAMP)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(client.frames).toEqual([]);
  });

  it('once live, sends exactly the next seq, drops repeats and reports a gap', async () => {
    const metrics = testMetrics();
    const { connection, client } = await pairs.connection('u', { metrics });
    goLiveAt(connection, 3);
    expect(connection.offer(3, frame('{"seq":3}'))).toBe('skipped');
    expect(connection.offer(2, frame('{"seq":2}'))).toBe('skipped');
    expect(await counterValue(metrics.drops, { reason: 'duplicate' })).toBe(2);
    expect(connection.offer(4, frame('{"seq":4}'))).toBe('sent');
    expect(connection.lastSeq).toBe(4);
    expect(await counterValue(metrics.messagesOut)).toBe(1);
    expect(connection.offer(6, frame('{"seq":6}'))).toBe('gap');
    expect(connection.isLive).toBe(false);
    expect(connection.lastSeq).toBe(4);
    // The gap's seq is the reader's goal: having read up to 5 is not enough.
    connection.sent(5);
    expect(connection.tryGoLive(5, connection.stamp)).toBe(false);
    expect(await framesArrived(client, 1)).toEqual([{ seq: 4 }]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(client.frames).toHaveLength(1);
  });

  it('says skipped, not sent, for a next event on a closed socket, and does not move its cursor', async () => {
    const metrics = testMetrics();
    const { connection } = await pairs.connection('u', { metrics });
    goLiveAt(connection, 0);
    connection.close(1000, 'done');
    expect(connection.offer(1, frame('{}'))).toBe('skipped');
    expect(connection.lastSeq).toBe(0);
    expect(await counterValue(metrics.drops, { reason: 'closed' })).toBe(1);
    expect(await counterValue(metrics.messagesOut)).toBe(0);
    // Still the next one: a send that failed leaves nothing to call a duplicate.
    expect(connection.offer(1, frame('{}'))).toBe('skipped');
    expect(await counterValue(metrics.drops, { reason: 'duplicate' })).toBe(0);
  });

  it('says skipped, not sent, for a next event a slow consumer cannot take, and does not move its cursor', async () => {
    const metrics = testMetrics();
    const { connection, client } = await pairs.connection('u', { metrics, maxBufferedBytes: 10 });
    goLiveAt(connection, 2);
    expect(connection.offer(3, frame('{"seq":3,"x":1}'))).toBe('skipped');
    expect(connection.lastSeq).toBe(2);
    expect(connection.closed).toBe(true);
    expect(await counterValue(metrics.drops, { reason: 'slow_consumer' })).toBe(1);
    expect(await counterValue(metrics.messagesOut)).toBe(0);
    expect(await client.closed).toEqual({ code: CloseCode.SlowConsumer, reason: 'Slow consumer: too much unsent data' });
    expect(client.frames).toEqual([]);
  });

  it('closes once, with the first code and reason', async () => {
    const { connection, client } = await pairs.connection('u');
    connection.close(4001, 'first');
    connection.close(4008, 'second');
    expect(connection.closed).toBe(true);
    expect(await client.closed).toEqual({ code: 4001, reason: 'first' });
  });

  it('stops sending once its socket closed, without closing it again', async () => {
    const metrics = testMetrics();
    const { connection } = await pairs.connection('u', { metrics });
    connection.markClosed();
    expect(connection.closed).toBe(true);
    expect(connection.send(frame('{}'))).toBe(false);
    expect(await counterValue(metrics.drops, { reason: 'closed' })).toBe(1);
    // The close event came from the socket: nothing is sent on it, not even a close frame.
    expect(connection.ws.readyState).toBe(connection.ws.OPEN);
  });

  it('starts the grace period when its token expired, and a refresh moves the deadline and ends it', async () => {
    const { connection } = await pairs.connection('u');
    connection.startGrace(5000);
    expect(connection.tokenExpired).toBe(true);
    expect(connection.deadlineAt).toBe(5000);
    connection.extendTo(90_000);
    expect(connection.tokenExpired).toBe(false);
    expect(connection.deadlineAt).toBe(90_000);
    connection.extendTo(Number.POSITIVE_INFINITY);
    expect(connection.deadlineAt).toBe(Number.POSITIVE_INFINITY);
  });

  it('terminates without a closing handshake', async () => {
    const { connection, client } = await pairs.connection('u');
    connection.terminate();
    expect(connection.closed).toBe(true);
    expect((await client.closed).code).toBe(1006);
  });
});
