import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { KafkaIntake, type KafkaMessage, type KafkaStream } from '../../src/ingest/kafka-intake.js';

/**
 * The intake's batching on its own. The stream is a Node Readable in object mode, which is what the client's
 * MessagesStream is (a Readable of records): the intake uses only its data, error and close events and pause and
 * resume. Records flowing from a real broker are the Kafka suites' (kafka-ingest.test.ts and the others).
 */
function recordOf(n: number, valueBytes: number, keyBytes = 0): KafkaMessage {
  return { value: Buffer.alloc(valueBytes, 120), key: Buffer.alloc(keyBytes, 107), offset: BigInt(n) } as unknown as KafkaMessage;
}

function streamOf(records: KafkaMessage[]): Readable {
  return Readable.from(records, { objectMode: true });
}

/** Takes batches until `total` records came out, with a macrotask between takes so the stream may flow again. */
async function drain(intake: KafkaIntake, total: number): Promise<KafkaMessage[][]> {
  const batches: KafkaMessage[][] = [];
  let taken = 0;
  while (taken < total) {
    const batch = await intake.take();
    batches.push(batch);
    taken += batch.length;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return batches;
}

const offsets = (batches: KafkaMessage[][]) => batches.flat().map((record) => Number(record.offset));

describe('KafkaIntake', () => {
  it('ends a batch at the byte bound before the record bound, in order and losing nothing', async () => {
    const records = Array.from({ length: 40 }, (_, n) => recordOf(n, 100, 10));
    const intake = new KafkaIntake(streamOf(records) as unknown as KafkaStream, { records: 1000, bytes: 500 }, new AbortController().signal);
    const batches = await drain(intake, 40);
    // 110 bytes a record: the stream pauses with five queued (550 bytes), of which four fit in 500.
    for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(4);
    expect(batches.some((batch) => batch.length === 4)).toBe(true);
    expect(offsets(batches)).toEqual(records.map((_, n) => n));
  });

  it('ends a batch at the record bound when the records are small', async () => {
    const records = Array.from({ length: 25 }, (_, n) => recordOf(n, 10));
    const intake = new KafkaIntake(streamOf(records) as unknown as KafkaStream, { records: 4, bytes: 1_000_000 }, new AbortController().signal);
    const batches = await drain(intake, 25);
    for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(4);
    expect(batches.some((batch) => batch.length === 4)).toBe(true);
    expect(offsets(batches)).toEqual(records.map((_, n) => n));
  });

  it('takes a record larger than the byte bound as a batch of its own, and the records around it beside it', async () => {
    const records = [recordOf(0, 10), recordOf(1, 10), recordOf(2, 5000), recordOf(3, 10), recordOf(4, 10)];
    const intake = new KafkaIntake(streamOf(records) as unknown as KafkaStream, { records: 100, bytes: 100 }, new AbortController().signal);
    const batches = await drain(intake, 5);
    const large = batches.find((batch) => batch.some((record) => Number(record.offset) === 2))!;
    expect(large.map((record) => Number(record.offset))).toEqual([2]);
    expect(offsets(batches)).toEqual([0, 1, 2, 3, 4]);
  });

  it('pauses the stream while a whole batch by bytes waits, and resumes it once the batch is taken', async () => {
    const stream = new Readable({ objectMode: true, read() {} });
    const intake = new KafkaIntake(stream as unknown as KafkaStream, { records: 1000, bytes: 300 }, new AbortController().signal);
    stream.push(recordOf(0, 200));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stream.isPaused()).toBe(false);
    stream.push(recordOf(1, 200));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stream.isPaused()).toBe(true);
    expect((await intake.take()).map((record) => Number(record.offset))).toEqual([0]);
    // 200 bytes left queued, under the bound: the stream flows again.
    expect(stream.isPaused()).toBe(false);
    expect((await intake.take()).map((record) => Number(record.offset))).toEqual([1]);
  });

  it('counts a record without a key or a value as no bytes', async () => {
    const records = [{ offset: 0n }, { offset: 1n, value: null, key: null }] as unknown as KafkaMessage[];
    const intake = new KafkaIntake(streamOf(records) as unknown as KafkaStream, { records: 10, bytes: 1 }, new AbortController().signal);
    expect(offsets(await drain(intake, 2))).toEqual([0, 1]);
  });

  describe('whenBatchWaiting', () => {
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    /** Whether `promise` has settled after a turn of the event loop. */
    async function settled(promise: Promise<unknown>): Promise<boolean> {
      let done = false;
      void promise.then(() => (done = true));
      await turn();
      return done;
    }

    it('waits until a whole batch by records is queued, not for the first record', async () => {
      const stream = new Readable({ objectMode: true, read() {} });
      const intake = new KafkaIntake(stream as unknown as KafkaStream, { records: 3, bytes: 1_000_000 }, new AbortController().signal);
      const waiting = intake.whenBatchWaiting();
      stream.push(recordOf(0, 10));
      stream.push(recordOf(1, 10));
      expect(await settled(waiting)).toBe(false);
      expect(intake.hasRecords()).toBe(true);
      stream.push(recordOf(2, 10));
      expect(await settled(waiting)).toBe(true);
      expect((await intake.take()).map((record) => Number(record.offset))).toEqual([0, 1, 2]);
    });

    it('ends at the byte bound too, and at once when a batch is queued already', async () => {
      const stream = new Readable({ objectMode: true, read() {} });
      const intake = new KafkaIntake(stream as unknown as KafkaStream, { records: 1000, bytes: 300 }, new AbortController().signal);
      const waiting = intake.whenBatchWaiting();
      stream.push(recordOf(0, 200));
      expect(await settled(waiting)).toBe(false);
      stream.push(recordOf(1, 200));
      expect(await settled(waiting)).toBe(true);
      expect(await settled(intake.whenBatchWaiting())).toBe(true);
    });

    it('ends when the source stops, the stream fails or it closes, with no batch queued', async () => {
      const stopping = new AbortController();
      const stopped = new KafkaIntake(new Readable({ objectMode: true, read() {} }) as unknown as KafkaStream, { records: 10, bytes: 1000 }, stopping.signal);
      const stopWait = stopped.whenBatchWaiting();
      expect(await settled(stopWait)).toBe(false);
      stopping.abort();
      expect(await settled(stopWait)).toBe(true);
      expect(await settled(stopped.whenBatchWaiting())).toBe(true);

      const failing = new Readable({ objectMode: true, read() {} });
      const failed = new KafkaIntake(failing as unknown as KafkaStream, { records: 10, bytes: 1000 }, new AbortController().signal);
      const failWait = failed.whenBatchWaiting();
      failing.destroy(new Error('broker gone'));
      expect(await settled(failWait)).toBe(true);
      await expect(failed.take()).rejects.toThrow('broker gone');

      const closing = new Readable({ objectMode: true, read() {} });
      const closed = new KafkaIntake(closing as unknown as KafkaStream, { records: 10, bytes: 1000 }, new AbortController().signal);
      const closeWait = closed.whenBatchWaiting();
      closing.destroy();
      expect(await settled(closeWait)).toBe(true);
    });

    it('leaves the waiting of take() alone: a record still wakes a take that waits beside it', async () => {
      const stream = new Readable({ objectMode: true, read() {} });
      const intake = new KafkaIntake(stream as unknown as KafkaStream, { records: 10, bytes: 1_000_000 }, new AbortController().signal);
      const batchWait = intake.whenBatchWaiting();
      const taking = intake.take();
      stream.push(recordOf(7, 10));
      expect((await taking).map((record) => Number(record.offset))).toEqual([7]);
      expect(await settled(batchWait)).toBe(false);
    });
  });
});
