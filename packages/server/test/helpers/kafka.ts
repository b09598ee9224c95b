import { randomBytes } from 'node:crypto';
import { Admin, Consumer, Producer, ProduceAcks, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { inject } from 'vitest';

export function kafkaBrokers(): string[] {
  return inject('kafkaBrokers').split(',');
}

/** A topic name no other test uses, created with `partitions` partitions. */
export async function freshTopic(partitions = 3): Promise<string> {
  const topic = `herald-test-${randomBytes(6).toString('hex')}`;
  const admin = new Admin({ clientId: 'herald-test-admin', bootstrapBrokers: kafkaBrokers() });
  try {
    await admin.createTopics({ topics: [topic, `${topic}.dlq`], partitions, replicas: 1 });
  } finally {
    await admin.close();
  }
  return topic;
}

export interface TestRecord {
  key?: string;
  /** A value to JSON-encode, or raw text sent as is. */
  value: unknown;
}

/** Produces records in order (acks=all): records with the same key land in one partition, in this order. */
export async function produce(topic: string, records: TestRecord[]): Promise<void> {
  const producer = new Producer({
    clientId: 'herald-test-producer',
    bootstrapBrokers: kafkaBrokers(),
    serializers: stringSerializers,
    acks: ProduceAcks.ALL,
    // A retried send must not write a batch twice, or tests would count records that were never produced.
    idempotent: true,
  });
  try {
    for (let start = 0; start < records.length; start += 500) {
      await producer.send({
        messages: records.slice(start, start + 500).map((record) => ({
          topic,
          key: record.key,
          value: typeof record.value === 'string' ? record.value : JSON.stringify(record.value),
        })),
      });
    }
  } finally {
    await producer.close();
  }
}

export interface ConsumedRecord {
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

/** Reads `count` records of a topic from its beginning (a fresh group), e.g. the dead-letter topic. */
export async function readTopic(topic: string, count: number, timeoutMs = 20_000): Promise<ConsumedRecord[]> {
  const consumer = new Consumer({
    clientId: 'herald-test-reader',
    groupId: `herald-test-reader-${randomBytes(6).toString('hex')}`,
    bootstrapBrokers: kafkaBrokers(),
    deserializers: stringDeserializers,
  });
  const records: ConsumedRecord[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 200 });
    const timer = setTimeout(() => stream.destroy(new Error(`read ${records.length} of ${count} records from ${topic}`)), timeoutMs);
    try {
      for await (const message of stream) {
        records.push({
          key: message.key ?? null,
          value: message.value,
          headers: Object.fromEntries(message.headers.entries()),
        });
        if (records.length >= count) break;
      }
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer.close(true);
  }
  return records;
}

/** Runs `use` with an admin client of the test broker. */
export async function withAdmin<T>(use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({ clientId: 'herald-test-admin', bootstrapBrokers: kafkaBrokers() });
  try {
    return await use(admin);
  } finally {
    await admin.close();
  }
}

/** A fresh topic name, not created: for tests of what Herald does when a topic is missing. */
export function freshTopicName(): string {
  return `herald-test-${randomBytes(6).toString('hex')}`;
}

/** Creates one topic, as `kcat` or an operator would: no dead-letter twin, topic configs as given. */
export async function createTopic(topic: string, partitions: number, configs: Record<string, string> = {}): Promise<void> {
  await withAdmin((admin) =>
    admin.createTopics({
      topics: [topic],
      partitions,
      replicas: 1,
      configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
    }),
  );
}

export interface RawRecord {
  key?: string | Buffer;
  value: string | Buffer;
  headers?: [string | Buffer, string | Buffer][];
  partition?: number;
}

const bytes = (value: string | Buffer): Buffer => (typeof value === 'string' ? Buffer.from(value) : value);

/** Produces records byte for byte (headers, keys and values that need not be UTF-8), to chosen partitions. */
export async function produceRaw(topic: string, records: RawRecord[]): Promise<void> {
  const producer = new Producer({
    clientId: 'herald-test-producer',
    bootstrapBrokers: kafkaBrokers(),
    acks: ProduceAcks.ALL,
    idempotent: true,
  });
  try {
    await producer.send({
      messages: records.map((record) => ({
        topic,
        key: record.key === undefined ? undefined : bytes(record.key),
        value: bytes(record.value),
        ...(record.partition !== undefined && { partition: record.partition }),
        headers: new Map((record.headers ?? []).map(([name, value]) => [bytes(name), bytes(value)])),
      })),
    });
  } finally {
    await producer.close();
  }
}

/** Herald's variables for consuming `topic` from the test broker, in a consumer group of its own. */
export function kafkaEnv(topic: string, extra: Record<string, string> = {}): Record<string, string> {
  return { HERALD_KAFKA_BROKERS: kafkaBrokers().join(','), HERALD_KAFKA_TOPIC: topic, HERALD_KAFKA_GROUP: `${topic}-group`, ...extra };
}
