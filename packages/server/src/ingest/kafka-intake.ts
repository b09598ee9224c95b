import type { Message, MessagesStream } from '@platformatic/kafka';

/** A record as the consumer hands it over, key, value and headers as bytes. */
export type KafkaMessage = Message<Buffer, Buffer, Buffer, Buffer>;

export type KafkaStream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

/**
 * Records received from one stream and not yet taken into a batch. They arrive in flowing mode into a queue that
 * pauses the stream (which stops its fetches) once a batch is waiting, so memory stays bounded by a batch plus
 * one fetch, however long the batch in hand takes to store.
 */
export class KafkaIntake {
  private readonly queue: KafkaMessage[] = [];
  private waiting: (() => void) | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly stream: KafkaStream,
    private readonly batchSize: number,
    private readonly signal: AbortSignal,
  ) {
    stream.on('data', (record: KafkaMessage) => {
      this.queue.push(record);
      if (this.queue.length >= batchSize) stream.pause();
      this.wake();
    });
    stream.on('error', (error: Error) => {
      this.failure = error;
      this.wake();
    });
    stream.on('close', () => {
      this.failure ??= new Error('kafka stream closed');
      this.wake();
    });
    signal.addEventListener('abort', this.wake, { once: true });
  }

  /**
   * Waits for at least one record, then takes what has arrived, up to the batch size; empty once stopping.
   * Throws what ended the stream (an error, or its close) once nothing is left to take.
   */
  async take(): Promise<KafkaMessage[]> {
    while (this.queue.length === 0) {
      if (this.signal.aborted) return [];
      if (this.failure) throw this.failure;
      const { promise, resolve } = Promise.withResolvers<void>();
      this.waiting = resolve;
      await promise;
    }
    const batch = this.queue.splice(0, this.batchSize);
    if (this.stream.isPaused() && this.queue.length < this.batchSize) this.stream.resume();
    return batch;
  }

  private readonly wake = (): void => {
    const resolve = this.waiting;
    this.waiting = undefined;
    resolve?.();
  };
}
