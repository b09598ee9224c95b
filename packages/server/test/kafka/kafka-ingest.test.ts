import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { freshTopic, kafkaBrokers, produce, readTopic } from '../helpers/kafka.js';
import { TestClient } from '../helpers/ws-client.js';

describe('events from a Kafka topic', () => {
  let gateway: TestGateway;
  let topic: string;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    topic = await freshTopic();
    gateway = await startGateway('sqlite', {
      env: { HERALD_KAFKA_BROKERS: kafkaBrokers().join(','), HERALD_KAFKA_TOPIC: topic, HERALD_KAFKA_GROUP: `${topic}-group` },
    });
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await gateway.close();
  });

  async function open(user: string): Promise<TestClient> {
    const client = await TestClient.open(gateway.wsUrl, await gateway.token(user), 0);
    clients.push(client);
    await client.waitForType('connected');
    return client;
  }

  it('reach every tab of the right user, in the order produced, and no other user', async () => {
    const alice = uniqueUser('alice');
    const bob = uniqueUser('bob');
    const [tab1, tab2, bobTab] = await Promise.all([open(alice), open(alice), open(bob)]);
    const records = Array.from({ length: 60 }, (_, index) => {
      const user = index % 3 === 0 ? bob : alice;
      return { key: user, value: { user_id: user, type: 'new_notification', payload: { n: index } } };
    });
    await produce(topic, records);

    const aliceOrder = records.filter((record) => record.key === alice).map((record) => (record.value.payload as { n: number }).n);
    const bobOrder = records.filter((record) => record.key === bob).map((record) => (record.value.payload as { n: number }).n);
    for (const tab of [tab1!, tab2!]) {
      const events = await tab.waitForSeq(aliceOrder.length, 20_000);
      expect(events.map((event) => event.seq)).toEqual(aliceOrder.map((_, index) => index + 1));
      expect(events.map((event) => event.payload.payload.n)).toEqual(aliceOrder);
    }
    const bobEvents = await bobTab!.waitForSeq(bobOrder.length, 20_000);
    expect(bobEvents.map((event) => event.payload.payload.n)).toEqual(bobOrder);
  });

  it('dead-letters a malformed record with the reason in a header and goes on with the next one', async () => {
    const carol = uniqueUser('carol');
    const tab = await open(carol);
    await produce(topic, [
      { key: carol, value: '{"user_id": "' },
      { key: carol, value: { user_id: carol, type: 'bogus', payload: {} } },
      { key: carol, value: { user_id: carol, type: 'task_update', payload: { action: 'done', task: { id: 1 } } } },
    ]);
    const events = await tab.waitForSeq(1, 20_000);
    expect(events).toEqual([{ type: 'task_update', seq: 1, payload: { action: 'done', task: { id: 1 } } }]);

    const dead = await readTopic(`${topic}.dlq`, 2);
    expect(dead.map((record) => record.headers['herald-error']).sort()).toEqual([
      'value is not valid JSON',
      'value.type must be equal to one of the allowed values (new_notification, task_update)',
    ]);
    expect(dead.map((record) => record.key)).toEqual([carol, carol]);
    expect(dead.find((record) => record.value === '{"user_id": "')?.headers['herald-source']).toMatch(new RegExp(`^${topic}/\\d+/\\d+$`));
  });

  it('stores and delivers a record id once, however often it is produced', async () => {
    const dave = uniqueUser('dave');
    const tab = await open(dave);
    const record = { key: dave, value: { user_id: dave, type: 'new_notification', payload: { title: 'once' }, id: 'dup-1' } };
    await produce(topic, [record, record, record]);
    await produce(topic, [{ key: dave, value: { user_id: dave, type: 'new_notification', payload: { title: 'after' } } }]);
    const events = await tab.waitForSeq(2, 10_000);
    expect(events.map((event) => event.payload.payload.title)).toEqual(['once', 'after']);
    const listed = await gateway.asUser(dave, '/notifications');
    expect(listed.body.items).toHaveLength(2);
  });

  it('reports the consumer in /readyz and its records in /metrics', async () => {
    const ready = await fetch(`${gateway.baseUrl}/readyz`).then((response) => response.json());
    expect(ready).toMatchObject({ status: 'ready', kafka: 'running' });
    const metrics = await fetch(`${gateway.baseUrl}/metrics`).then((response) => response.text());
    expect(metrics).toMatch(/herald_kafka_records_total\{outcome="stored"\} [1-9]\d*/);
    expect(metrics).toMatch(/herald_kafka_records_total\{outcome="dead_lettered"\} [1-9]/);
    expect(metrics).toMatch(/herald_kafka_records_total\{outcome="duplicate"\} [1-9]/);
  });
});
