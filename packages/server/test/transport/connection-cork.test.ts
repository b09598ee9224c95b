import type { Socket } from 'node:net';
import { CloseCode } from '@herald/protocol';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { OPENING_STAMP } from '../../src/transport/stream-cursor.js';
import { framesArrived, SocketPairs } from '../helpers/socket-pair.js';

// A Connection holds the frames of one turn of the event loop together and writes them in one system call once
// the turn's code has run. Observed on the real server-side socket: how many times it hands data to the kernel
// (Node's _write for one chunk, _writev for several), and what the client receives.

const pairs = new SocketPairs();
beforeAll(() => pairs.start());
afterAll(() => pairs.stop());

/** Counts the real socket's writes to the kernel, each with the number of chunks it carried. */
function countWrites(socket: Socket): number[] {
  const writes: number[] = [];
  const target = socket as unknown as { _write(...args: unknown[]): void; _writev(chunks: unknown[], ...rest: unknown[]): void };
  const write = target._write.bind(target);
  const writev = target._writev.bind(target);
  vi.spyOn(target, '_write').mockImplementation((...args: unknown[]) => {
    writes.push(1);
    write(...args);
  });
  vi.spyOn(target, '_writev').mockImplementation((chunks: unknown[], ...rest: unknown[]) => {
    writes.push(chunks.length);
    writev(chunks, ...rest);
  });
  return writes;
}

async function corkedConnection(maxBufferedBytes = 1024 * 1024) {
  const { connection, client, serverSocket } = await pairs.connection('u', { maxBufferedBytes });
  return { connection, client, writes: countWrites(serverSocket) };
}

const frame = (index: number, bytes = 20): Buffer => Buffer.from(JSON.stringify({ n: index, pad: 'x'.repeat(bytes) }));

describe('Connection: the frames of one turn', () => {
  it('are written together once the turn has run, in order, and all arrive', async () => {
    const { connection, client, writes } = await corkedConnection();
    for (let index = 0; index < 20; index++) expect(connection.send(frame(index))).toBe(true);
    // Nothing has been handed to the kernel while the turn runs: the frames are held, and counted as unsent.
    expect(writes).toEqual([]);
    expect(connection.ws.bufferedAmount).toBeGreaterThan(20 * 20);
    await new Promise((resolve) => setImmediate(resolve));
    // One write of every frame's header and body: 40 chunks.
    expect(writes).toEqual([40]);
    const arrived = (await framesArrived(client, 20)) as { n: number }[];
    expect(arrived.map((message) => message.n)).toEqual(Array.from({ length: 20 }, (_, index) => index));
  });

  it('are written per turn: a later turn is a write of its own', async () => {
    const { connection, client, writes } = await corkedConnection();
    connection.send(frame(0));
    connection.send(frame(1));
    await new Promise((resolve) => setImmediate(resolve));
    connection.send(frame(2));
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([4, 2]);
    expect(((await framesArrived(client, 3)) as { n: number }[]).map((message) => message.n)).toEqual([0, 1, 2]);
  });

  it('are written as soon as they pass a quarter of the slow-consumer bound, so a burst does not close a healthy client', async () => {
    // 64 frames of ~1 KiB in one turn against a bound of 16 KiB: held until the turn's end, they would be 64 KiB of
    // unsent data and the client closed as slow; written every 4 KiB, the kernel takes them as they come.
    const maxBufferedBytes = 16 * 1024;
    const { connection, client, writes } = await corkedConnection(maxBufferedBytes);
    for (let index = 0; index < 64; index++) {
      expect(connection.send(frame(index, 1000))).toBe(true);
      expect(connection.ws.bufferedAmount).toBeLessThan(maxBufferedBytes / 4 + 1100);
    }
    expect(connection.closed).toBe(false);
    expect(writes.length).toBeGreaterThan(1);
    expect(await framesArrived(client, 64)).toHaveLength(64);
  });

  it('are written before a frame that would pass the bound with them: a frame of exactly the bound after a small one is sent', async () => {
    // The stream's first frames (connected, then a replayed event at the bound) come in one turn: held together
    // they would be over the bound, and the tab closed as slow before it had read anything.
    const maxBufferedBytes = 8192;
    const { connection, client } = await corkedConnection(maxBufferedBytes);
    expect(connection.send(frame(0))).toBe(true);
    const atTheBound = frame(1, maxBufferedBytes);
    const exact = Buffer.concat([atTheBound.subarray(0, maxBufferedBytes - 2), Buffer.from('"}')]);
    expect(exact.length).toBe(maxBufferedBytes);
    expect(connection.send(exact)).toBe(true);
    expect(connection.closed).toBe(false);
    expect(await framesArrived(client, 2)).toHaveLength(2);
  });

  it('still count against the slow-consumer bound while held: one turn past it closes the tab with 4008', async () => {
    // A single frame over the bound is refused before it is held.
    const { connection, client } = await corkedConnection(4096);
    expect(connection.send(frame(0, 5000))).toBe(false);
    expect(connection.closed).toBe(true);
    expect((await client.closed).code).toBe(CloseCode.SlowConsumer);
  });

  it('are held for live offers and replays alike, and a closed tab in the held set is passed over', async () => {
    const first = await corkedConnection();
    const second = await corkedConnection();
    first.connection.startAt(0);
    expect(first.connection.tryGoLive(0, OPENING_STAMP)).toBe(true);
    expect(first.connection.offer(1, frame(1))).toBe('sent');
    expect(first.connection.offer(2, frame(2))).toBe('sent');
    second.connection.send(frame(7));
    second.connection.terminate();
    await new Promise((resolve) => setImmediate(resolve));
    expect(first.writes).toEqual([4]);
    expect(((await framesArrived(first.client, 2)) as { n: number }[]).map((message) => message.n)).toEqual([1, 2]);
  });
});
