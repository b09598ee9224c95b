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

  async send(dead: readonly DeadRecord<KafkaMessage>[]): Promise<void> {
    await this.producer.send({
      messages: dead.map(({ record, reason }) => ({
        topic: this.options.topic,
        key: record.key ? Buffer.from(record.key) : undefined,
        value: record.value ? Buffer.from(record.value) : Buffer.alloc(0),
        headers: new Map([
          [Buffer.from('herald-error'), Buffer.from(reason)],
          [Buffer.from('herald-source'), Buffer.from(`${record.topic}/${record.partition}/${record.offset}`)],
        ]),
      })),
    });
  }

  close(): Promise<void> {
    return this.producer.close(true);
  }
}
