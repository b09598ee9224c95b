import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { createTopic, freshTopicName, kafkaBrokers, kafkaEnv, produceRaw, readTopic } from '../helpers/kafka.js';
import { waitUntil } from '../helpers/wait-until.js';
import { TestClient } from '../helpers/ws-client.js';

// HERALD_KAFKA_FORMAT=headers: a topic that already exists, whose records were never shaped for Herald (the
// user in the key, the payload as the value), consumed as it is.

describe('consuming an existing topic with HERALD_KAFKA_FORMAT=headers', () => {
  let gateway: TestGateway | undefined;
  let tab: TestClient | undefined;
  afterEach(async () => {
    await tab?.close();
    await gateway?.close();
    tab = gateway = undefined;
  });

  it('delivers records keyed by user, typed and identified by headers, and dead-letters those without a user', async () => {
    const topic = freshTopicName();
    await createTopic(topic, 2);
    gateway = await startGateway('sqlite', {
      env: kafkaEnv(topic, { HERALD_KAFKA_FORMAT: 'headers' }),
    });
    const user = uniqueUser('headers');
    tab = await TestClient.open(gateway.wsUrl, await gateway.token(user), 0);
    await tab.waitForType('connected');

    await produceRaw(topic, [
      // The plainest record an existing topic has: a key and a JSON value.
      { key: user, value: JSON.stringify({ title: 'Invoice paid', amount: 12 }) },
      { key: user, value: JSON.stringify({ action: 'done', task: { id: 7 } }), headers: [['herald-type', 'task_update'], ['herald-id', 'task-7']] },
      // The same herald-id again: stored once.
      { key: user, value: JSON.stringify({ action: 'done', task: { id: 7 } }), headers: [['herald-type', 'task_update'], ['herald-id', 'task-7']] },
      // No key, the user in a header.
      { value: JSON.stringify({ title: 'From a header' }), headers: [['herald-user-id', user]] },
      // Dead letters: no user at all, a value that is not an object, a type Herald does not take.
      { value: JSON.stringify({ title: 'nobody' }) },
      { key: user, value: '[1, 2, 3]' },
      { key: user, value: JSON.stringify({}), headers: [['herald-type', 'all_read']] },
    ]);

    await tab.waitForSeq(3, 20_000);
    // A notification's frame carries the inbox record (its payload inside); other types carry the payload itself.
    // The keyless record may land on the other partition, so the order across the two is not fixed.
    const delivered = tab.events.map((event) => [event.type, event.type === 'new_notification' ? event.payload.payload : event.payload]);
    expect(delivered).toHaveLength(3);
    expect(delivered).toEqual(
      expect.arrayContaining([
        ['new_notification', { title: 'Invoice paid', amount: 12 }],
        ['task_update', { action: 'done', task: { id: 7 } }],
        ['new_notification', { title: 'From a header' }],
      ]),
    );
    // The keyed records share a partition: their order holds.
    expect(delivered.filter(([type, payload]) => type === 'task_update' || (payload as any).amount === 12).map(([type]) => type)).toEqual([
      'new_notification',
      'task_update',
    ]);
    const dead = await readTopic(`${topic}.dlq`, 3);
    const reasons = dead.map((record) => record.headers['herald-error'] ?? '');
    expect(reasons).toHaveLength(3);
    expect(reasons).toContain('record has no user id: neither a key nor a herald-user-id header');
    expect(reasons).toContain('value must be a JSON object (the payload)');
    expect(reasons.filter((reason) => /^record\.type /.test(reason))).toHaveLength(1);
    // Nothing else arrives later.
    await waitUntil(async () => (await gateway!.asUser(user, '/notifications')).body.items.length === 2, 'two in the inbox', 5_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(tab.events).toHaveLength(3);
  }, 60_000);

  it('refuses a HERALD_KAFKA_FORMAT it does not know, listing the ones it does', async () => {
    for (const format of ['avro', 'JSON', 'header', 'protobuf']) {
      const failure = await startGateway('sqlite', {
        env: { HERALD_KAFKA_BROKERS: kafkaBrokers().join(','), HERALD_KAFKA_TOPIC: freshTopicName(), HERALD_KAFKA_FORMAT: format },
      }).then(
        (started) => started.close(),
        (error: unknown) => error,
      );
      expect((failure as Error).message, format).toContain('HERALD_KAFKA_FORMAT');
    }
  });
});
