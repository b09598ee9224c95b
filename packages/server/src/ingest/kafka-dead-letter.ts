import { ProduceAcks, Producer } from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { KafkaConnection } from './kafka-connection.js';
import type { KafkaMessage } from './kafka-intake.js';
import type { DeadRecord } from './kafka-record.js';

export interface DeadLettersOptions {
  clientId: string;
  connection: KafkaConnection;
  topic: string;
  logger: Logger;
}

interface DeadLetter {
  topic: string;
  key: Buffer | undefined;
  value: Buffer;
  headers: Map<Buffer, Buffer>;
}

/**
 * The most bytes of copies sent in one request. One send puts all of a partition's records in one record batch,
 * and a broker refuses a batch over its max.message.bytes (1 MiB unless configured): a batch of thousands of small
 * bad records, each of which the topic took, would be refused together, every retry, and stop the consumer. Half
 * of that default leaves room for the batch's own overhead.
 */
const SEND_BYTES = 512 * 1024;
/** A record's framing in a record batch (lengths, offsets, timestamp), more than it takes. */
const RECORD_OVERHEAD_BYTES = 64;

function letterBytes(letter: DeadLetter): number {
  let bytes = RECORD_OVERHEAD_BYTES + (letter.key?.length ?? 0) + letter.value.length;
  for (const [name, value] of letter.headers) bytes += name.length + value.length;
  return bytes;
}

/**
 * Copies records that cannot be stored to the dead-letter topic: key and value as they came, the reason in a
 * `herald-error` header and the record's topic/partition/offset in `herald-source`. Acknowledged by every
 * replica before the batch goes on, so a record is never skipped without its copy being kept.
 */
export class DeadLetters {
  private readonly producer: Producer<Buffer, Buffer, Buffer, Buffer>;

  constructor(private readonly options: DeadLettersOptions) {
    this.producer = new Producer({ clientId: `${options.clientId}-dlq`, ...options.connection, acks: ProduceAcks.ALL });
    // An EventEmitter: an unhandled 'error' would end the process, and the source already retries a failed send.
    this.producer.on('error', (error: Error) => options.logger.warn({ err: error }, 'kafka producer error'));
  }

  /** Sends the copies in order, in requests of at most SEND_BYTES each (a single larger copy alone). */
  async send(dead: readonly DeadRecord<KafkaMessage>[]): Promise<void> {
    let chunk: DeadLetter[] = [];
    let bytes = 0;
    for (const { record, reason } of dead) {
      const letter: DeadLetter = {
        topic: this.options.topic,
        key: record.key ? Buffer.from(record.key) : undefined,
        value: record.value ? Buffer.from(record.value) : Buffer.alloc(0),
        headers: new Map([
          [Buffer.from('herald-error'), Buffer.from(reason)],
          [Buffer.from('herald-source'), Buffer.from(`${record.topic}/${record.partition}/${record.offset}`)],
        ]),
      };
      const size = letterBytes(letter);
      if (chunk.length > 0 && bytes + size > SEND_BYTES) {
        await this.producer.send({ messages: chunk });
        chunk = [];
        bytes = 0;
      }
      chunk.push(letter);
      bytes += size;
    }
    if (chunk.length > 0) await this.producer.send({ messages: chunk });
  }

  close(): Promise<void> {
    return this.producer.close(true);
  }
}
