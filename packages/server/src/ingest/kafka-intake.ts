import type { Message, MessagesStream } from '@platformatic/kafka';

/** A record as the consumer hands it over, key, value and headers as bytes. */
export type KafkaMessage = Message<Buffer, Buffer, Buffer, Buffer>;

export type KafkaStream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

/** How large a batch may grow: whichever bound is reached first ends it. */
export interface BatchBounds {
  records: number;
  /** Key and value bytes; a single record larger than this is a batch of its own. */
  bytes: number;
}

/** The bytes a record holds in memory here, as counted against BatchBounds.bytes. */
function recordBytes(record: KafkaMessage): number {
  return (record.value?.length ?? 0) + (record.key?.length ?? 0);
}

/**
 * Records received from one stream and not yet taken into a batch. They arrive in flowing mode into a queue that
 * pauses the stream (which stops its fetches) once a batch is waiting, so memory stays bounded by a batch plus
 * one fetch, however long the batch in hand takes to store. A batch is bounded in bytes as well as in records:
 * thousands of records of the largest allowed size (HERALD_MAX_BODY_BYTES each) would otherwise be gigabytes.
 */
export class KafkaIntake {
  private readonly queue: KafkaMessage[] = [];
  private queuedBytes = 0;
  private waiting: (() => void) | undefined;
  private batchWaiter: (() => void) | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly stream: KafkaStream,
    private readonly bounds: BatchBounds,
    private readonly signal: AbortSignal,
  ) {
    stream.on('data', (record: KafkaMessage) => {
      this.queue.push(record);
      this.queuedBytes += recordBytes(record);
      if (this.batchWaiting()) {
        stream.pause();
        this.wakeBatchWaiter();
      }
      this.wake();
    });
    stream.on('error', (error: Error) => {
      this.failure = error;
      this.wakeAll();
    });
    stream.on('close', () => {
      this.failure ??= new Error('kafka stream closed');
      this.wakeAll();
    });
    signal.addEventListener('abort', this.wakeAll, { once: true });
  }

  /** Whether the queue holds a whole batch already, by either bound. */
  private batchWaiting(): boolean {
    return this.queue.length >= this.bounds.records || this.queuedBytes >= this.bounds.bytes;
  }

  /** Whether a record is waiting: take() then returns without waiting. */
  hasRecords(): boolean {
    return this.queue.length > 0;
  }

  /**
   * Waits for at least one record, then takes what has arrived, up to the batch bounds (always at least one
   * record); empty once stopping. Throws what ended the stream (an error, or its close) once nothing is left.
   */
  async take(): Promise<KafkaMessage[]> {
    while (this.queue.length === 0) {
      if (this.signal.aborted) return [];
      if (this.failure) throw this.failure;
      const { promise, resolve } = Promise.withResolvers<void>();
      this.waiting = resolve;
      await promise;
    }
    let count = 0;
    let bytes = 0;
    while (count < this.queue.length && count < this.bounds.records) {
      const size = recordBytes(this.queue[count]!);
      if (count > 0 && bytes + size > this.bounds.bytes) break;
      bytes += size;
      count++;
    }
    const batch = this.queue.splice(0, count);
    this.queuedBytes -= bytes;
    if (this.stream.isPaused() && !this.batchWaiting()) this.stream.resume();
    return batch;
  }

  /**
   * Resolves once a whole batch is waiting (by either bound), or the stream has failed or is stopping: what a
   * caller busy with the last batch waits for before it takes the next, so that the next is a whole batch and not
   * the first fetch's worth. One caller at a time; a second call replaces the first's wait.
   */
  whenBatchWaiting(): Promise<void> {
    this.wakeBatchWaiter();
    if (this.batchWaiting() || this.failure !== undefined || this.signal.aborted) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.batchWaiter = resolve;
    return promise;
  }

  private wakeBatchWaiter(): void {
    const resolve = this.batchWaiter;
    this.batchWaiter = undefined;
    resolve?.();
  }

  /** The stream failed, closed or the source is stopping: every wait ends. */
  private readonly wakeAll = (): void => {
    this.wakeBatchWaiter();
    this.wake();
  };

  private readonly wake = (): void => {
    const resolve = this.waiting;
    this.waiting = undefined;
    resolve?.();
  };
}
