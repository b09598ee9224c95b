import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../helpers/databases.js';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { freshTopic, kafkaBrokers, produce, readTopic } from '../helpers/kafka.js';
import { waitUntil } from '../helpers/wait-until.js';
import { acceptedIdentifiers } from '../http/identifier-forms.js';

// Kafka records go through the publish item's schema, so a user_id or id that the databases would not store alike
// sends its record to the dead-letter topic with the reason, on a real broker; the others are stored under exactly
// their ids, on both databases.

const refused = [
  { field: 'user_id', value: 'al\u0000ice' },
  { field: 'user_id', value: '\u0000alice' },
  { field: 'user_id', value: 'alice\u001B' },
  { field: 'user_id', value: 'al\uD83Dice' },
  { field: 'user_id', value: 'alice\uDE00' },
  { field: 'user_id', value: 'x'.repeat(256) },
  { field: 'id', value: 'key\u0000' },
  { field: 'id', value: '\uDE00key' },
] as const;

describe.each(databaseKinds)('identifiers in Kafka records on %s', (kind) => {
  let gateway: TestGateway;
  let topic: string;
  beforeAll(async () => {
    // One partition: the records are consumed in the order produced, so the last one stored means all were read.
    topic = await freshTopic(1);
    gateway = await startGateway(kind, {
      env: { HERALD_KAFKA_BROKERS: kafkaBrokers().join(','), HERALD_KAFKA_TOPIC: topic, HERALD_KAFKA_GROUP: `${topic}-group` },
    });
  });
  afterAll(() => gateway.close());

  it('dead-letters each record whose user_id or id is not an identifier and stores the others under exactly their ids', async () => {
    const suffix = uniqueUser('kafka');
    const good = acceptedIdentifiers.filter((form) => form.value.length < 200).map((form) => `${suffix}-${form.value}`);
    const bad = refused.map(({ field, value }) =>
      field === 'user_id'
        ? { user_id: value, type: 'new_notification', payload: { bad: field } }
        : { user_id: `${suffix}-keyed`, type: 'new_notification', payload: { bad: field }, id: value },
    );
    const last = `${suffix}-last`;
    await produce(topic, [
      ...bad.map((value) => ({ key: 'mixed', value })),
      ...good.map((userId) => ({ key: 'mixed', value: { user_id: userId, type: 'new_notification', payload: { userId }, id: userId } })),
      { key: 'mixed', value: { user_id: last, type: 'task_update', payload: {} } },
    ]);
    await waitUntil(async () => (await gateway.asUser(last, '/notifications/unread-count')).body.seq === 1, 'the last record stored', 30_000);

    const dead = await readTopic(`${topic}.dlq`, bad.length);
    expect(dead.map((record) => record.headers['herald-error'])).toEqual(refused.map(({ field }) => expect.stringMatching(new RegExp(`^value\\.${field} `))));
    expect((await gateway.asUser(`${suffix}-keyed`, '/notifications')).body.items).toEqual([]);

    for (const userId of good) {
      const page = await gateway.asUser(userId, '/notifications');
      expect({ userId, status: page.status, stored: page.body.items.map((item: any) => [item.key, item.payload.userId]) }).toEqual({
        userId,
        status: 200,
        stored: [[userId, userId]],
      });
    }
  });
});
