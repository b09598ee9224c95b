import { randomBytes } from 'node:crypto';
import { Admin, Consumer, Producer, ProduceAcks, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { afterEach, describe, expect, inject, it } from 'vitest';

// The broker that every Kafka suite relies on (setup/kafka.ts): if this file fails, look here first, not at
// Herald's consumer.
describe('the Kafka broker of the test run', () => {
  const bootstrapBrokers = inject('kafkaBrokers').split(',');
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  it('creates a topic, takes records with keys and headers, and hands them to a consumer group', async () => {
    const topic = `herald-broker-test-${randomBytes(6).toString('hex')}`;
    const admin = new Admin({ clientId: 'herald-broker-test', bootstrapBrokers });
    closers.push(() => admin.close());
    await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
    closers.push(() => admin.deleteTopics({ topics: [topic] }));

    const producer = new Producer({
      clientId: 'herald-broker-test',
      bootstrapBrokers,
      serializers: stringSerializers,
      acks: ProduceAcks.ALL,
      // On a loaded machine a send can time out and be retried: without idempotence that writes it twice.
      idempotent: true,
    });
    closers.push(() => producer.close());
    const sent = ['alice', 'bob', 'carol'].map((user) => ({ key: user, value: `{"user_id":"${user}"}` }));
    await producer.send({
      messages: sent.map((record) => ({ topic, ...record, headers: { 'herald-test': record.key } })),
    });

    const consumer = new Consumer({
      clientId: 'herald-broker-test',
      groupId: `${topic}-group`,
      bootstrapBrokers,
      deserializers: stringDeserializers,
    });
    closers.push(() => consumer.close());
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 200 });
    // A broken broker would leave the loop waiting: end it with a message rather than the test's timeout.
    const timer = setTimeout(() => stream.destroy(new Error('fewer than 3 records arrived within 15 s')), 15_000);
    const received: { key: string | undefined; value: string; header: string | undefined; partition: number }[] = [];
    // Delivery is at least once: a record fetched again (after a rebalance of the new group) is one record.
    const seen = new Set<string>();
    try {
      for await (const message of stream) {
        const position = `${message.partition}/${message.offset}`;
        if (seen.has(position)) continue;
        seen.add(position);
        received.push({
          key: message.key,
          value: message.value,
          header: message.headers.get('herald-test'),
          partition: message.partition,
        });
        if (received.length === sent.length) break;
      }
    } finally {
      clearTimeout(timer);
    }

    // Order holds within a partition only, and the three keys may land in different ones.
    received.sort((a, b) => String(a.key).localeCompare(String(b.key)));
    expect(received.map(({ key, value }) => ({ key, value }))).toEqual(sent);
    expect(received.map((record) => record.header)).toEqual(['alice', 'bob', 'carol']);
    for (const { partition } of received) expect([0, 1, 2]).toContain(partition);
  });
});
