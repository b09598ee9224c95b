import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { databaseKinds, dropDatabase, freshDatabaseUrl, type DatabaseKind } from '../helpers/databases.js';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { httpRequest } from '../helpers/http-request.js';
import { createTopic, freshTopicName, kafkaEnv, produceRaw, readTopic } from '../helpers/kafka.js';
import { metricValue } from '../helpers/metric-value.js';
import { pgClient } from '../helpers/pg-client.js';
import { waitUntil } from '../helpers/wait-until.js';

// Records that can never be stored go to the dead-letter topic and the records behind them are stored; a
// dead-letter topic that keeps refusing them stops the consumer, visibly, without skipping anything.

const goodValue = (user: string, n: number) => JSON.stringify({ user_id: user, type: 'new_notification', payload: { n } });


const listed = async (gateway: TestGateway, user: string): Promise<number[]> =>
  (await gateway.asUser(user, '/notifications?limit=100')).body.items.map((item: any) => item.payload.n).reverse();

/**
 * Makes the database itself refuse every notification whose payload holds `marker`, as a constraint or trigger
 * an operator added would: a refusal that no retry changes, raised by the real database inside Herald's insert.
 */
async function refusePayloadsContaining(kind: DatabaseKind, databaseUrl: string, marker: string): Promise<void> {
  if (kind === 'sqlite') {
    const db = new Database(databaseUrl);
    try {
      db.exec(`CREATE TRIGGER refuse_marked BEFORE INSERT ON notifications WHEN NEW.payload LIKE '%${marker}%'
               BEGIN SELECT RAISE(ABORT, 'payloads with ${marker} are refused'); END`);
    } finally {
      db.close();
    }
    return;
  }
  const client = pgClient(databaseUrl);
  await client.connect();
  try {
    await client.query(`ALTER TABLE notifications ADD CONSTRAINT refuse_marked CHECK (payload::text NOT LIKE '%${marker}%')`);
  } finally {
    await client.end();
  }
}

describe('dead-lettering', () => {
  let gateway: TestGateway | undefined;
  let onTeardown: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await gateway?.close();
    await onTeardown?.();
    gateway = onTeardown = undefined;
  });

  describe.each(databaseKinds)('on %s', (kind) => {
    it('dead-letters a record the database refuses with the reason, and stores every good record on every partition', async () => {
      const topic = freshTopicName();
      await createTopic(topic, 3);
      gateway = await startGateway(kind, { env: kafkaEnv(topic, { HERALD_MAX_BODY_BYTES: '2048' }) });
      await refusePayloadsContaining(kind, gateway.databaseUrl, 'poison');
      const users = [0, 1, 2].map((partition) => uniqueUser(`p${partition}`));
      const records = users.flatMap((user, partition) => [
        { partition, key: user, value: goodValue(user, 1) },
        // Refused by the database: its own constraint.
        { partition, key: user, value: JSON.stringify({ user_id: user, type: 'new_notification', payload: { n: 99, poison: true } }) },
        { partition, key: user, value: goodValue(user, 2) },
        // Refused before the database: a user id outside the rules, a value over the limit, a wrong type.
        { partition, key: user, value: JSON.stringify({ user_id: 'tab\there', type: 'new_notification', payload: {} }) },
        { partition, key: user, value: JSON.stringify({ user_id: user, type: 'new_notification', payload: { text: 'x'.repeat(3000) } }) },
        { partition, key: user, value: JSON.stringify({ user_id: user, type: 'mark_read', payload: {} }) },
        { partition, key: user, value: goodValue(user, 3) },
      ]);
      await produceRaw(topic, records);

      for (const user of users) {
        await waitUntil(async () => (await listed(gateway!, user)).length === 3, `every good record of ${user} stored`, 30_000);
        expect(await listed(gateway, user)).toEqual([1, 2, 3]);
      }
      const dead = await readTopic(`${topic}.dlq`, 12);
      expect(dead).toHaveLength(12);
      const reasons = dead.map((record) => record.headers['herald-error'] ?? '');
      expect(reasons.filter((reason) => reason.startsWith('the database refused the record: '))).toHaveLength(3);
      expect(reasons.filter((reason) => reason.startsWith('value.user_id '))).toHaveLength(3);
      expect(reasons.filter((reason) => reason === 'value is larger than 2048 bytes')).toHaveLength(3);
      expect(reasons.filter((reason) => reason.startsWith('value.type '))).toHaveLength(3);
      // Each copy says where it came from, and the poisoned ones keep their bytes.
      const refused = dead.filter((record) => record.headers['herald-error']?.startsWith('the database refused'));
      expect(refused.map((record) => JSON.parse(record.value).payload.poison)).toEqual([true, true, true]);
      expect(new Set(refused.map((record) => record.headers['herald-source']?.split('/')[1]))).toEqual(new Set(['0', '1', '2']));
      expect(await metricValue(gateway.baseUrl, 'herald_kafka_records_total', { outcome: 'dead_lettered' })).toBe(12);
      expect(await metricValue(gateway.baseUrl, 'herald_kafka_records_total', { outcome: 'stored' })).toBe(9);
      expect((await httpRequest(gateway.baseUrl, '/readyz')).body).toMatchObject({ status: 'ready', kafka: 'running' });
    }, 60_000);
  });

  // Each bad record is under HERALD_MAX_BODY_BYTES and the topic's 1 MiB, so the topic took it alone; a fetch hands
  // Herald many in one batch, whose copies in one request would be one record batch over the broker's 1 MiB.
  const repeat = (count: number, bytes: number) => Array.from({ length: count }, () => bytes);
  it.each([
    { form: '30 records of 100 KB', sizes: repeat(30, 100_000) },
    { form: '3,000 records of 500 bytes', sizes: repeat(3000, 500) },
    { form: 'records of 700 KB, each larger than one request, between small ones', sizes: [...repeat(5, 200), 700_000, ...repeat(5, 200), 700_000, 700_000, ...repeat(5, 200)] },
  ])('dead-letters a batch of bad records larger together than the broker takes at once: $form', async ({ sizes }) => {
    const topic = freshTopicName();
    await createTopic(topic, 1);
    const user = uniqueUser('bulk');
    const bad = (n: number) => `not json ${n} ${'x'.repeat(sizes[n]!)}`;
    const records = [{ key: user, value: goodValue(user, 1) }, ...sizes.map((_, n) => ({ key: user, value: bad(n) })), { key: user, value: goodValue(user, 2) }];
    // Produced in requests under the topic's own 1 MiB bound.
    for (let start = 0; start < records.length; ) {
      let end = start + 1;
      for (let bytes = records[start]!.value.length; end < records.length && bytes + records[end]!.value.length < 800_000; end++) bytes += records[end]!.value.length;
      await produceRaw(topic, records.slice(start, end));
      start = end;
    }
    gateway = await startGateway('sqlite', { env: kafkaEnv(topic) });

    await waitUntil(async () => (await listed(gateway!, user)).length === 2, 'both good records stored', 60_000);
    expect(await listed(gateway, user)).toEqual([1, 2]);
    const dead = await readTopic(`${topic}.dlq`, sizes.length, 40_000);
    expect(dead.map((record) => record.headers['herald-source'])).toEqual(sizes.map((_, n) => `${topic}/0/${n + 1}`));
    expect(dead.every((record) => record.headers['herald-error'] === 'value is not valid JSON')).toBe(true);
    expect(dead.map((record) => record.value)).toEqual(sizes.map((_, n) => bad(n)));
    expect(await metricValue(gateway.baseUrl, 'herald_kafka_retries_total')).toBe(0);
    expect((await httpRequest(gateway.baseUrl, '/readyz')).body).toMatchObject({ status: 'ready', kafka: 'running' });
  }, 120_000);

  it('stops the consumer when the cluster keeps refusing a dead letter, says so, and skips nothing', async () => {
    const topic = freshTopicName();
    await createTopic(topic, 1);
    // A dead-letter topic that takes no record this large: every send of the bad record's copy is refused.
    await createTopic(`${topic}.dlq`, 1, { 'max.message.bytes': '200' });
    const databaseUrl = await freshDatabaseUrl('sqlite');
    onTeardown = () => dropDatabase(databaseUrl);
    gateway = await startGateway('sqlite', { databaseUrl, env: kafkaEnv(topic) });
    const { baseUrl } = gateway;
    const user = uniqueUser('wedge');
    const bad = `not json ${'x'.repeat(500)}`;
    await produceRaw(topic, [
      { key: user, value: goodValue(user, 1) },
      { key: user, value: bad },
      { key: user, value: goodValue(user, 2) },
    ]);

    await waitUntil(async () => (await httpRequest(baseUrl, '/readyz')).status === 503, 'the node is unready', 60_000);
    const ready = await httpRequest(baseUrl, '/readyz');
    expect(ready.body).toMatchObject({ status: 'unavailable', database: 'ok', kafka: 'failed' });
    expect(ready.body.kafka_reason).toContain(`dead-lettering to ${topic}.dlq failed 8 times`);
    expect(await metricValue(baseUrl, 'herald_kafka_consumer_stopped')).toBe(1);
    expect(await metricValue(baseUrl, 'herald_kafka_retries_total')).toBe(7);
    // The failed source stays failed: no more retries later.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await metricValue(baseUrl, 'herald_kafka_retries_total')).toBe(7);
    await gateway.close();

    // Restarted on the same database with a dead-letter topic that takes it, the node reads the batch again
    // (it was never committed): the bad record is dead-lettered once and each good one is stored once.
    const rejects = `${topic}-rejects`;
    gateway = await startGateway('sqlite', { databaseUrl, env: kafkaEnv(topic, { HERALD_KAFKA_DLQ_TOPIC: rejects }) });
    await waitUntil(async () => (await metricValue(gateway!.baseUrl, 'herald_kafka_records_total', { outcome: 'dead_lettered' })) === 1, 'the bad record dead-lettered', 30_000);
    const [letter] = await readTopic(rejects, 1);
    expect(letter).toMatchObject({ value: bad, headers: { 'herald-error': 'value is not valid JSON', 'herald-source': `${topic}/0/1` } });
    expect(await listed(gateway, user)).toEqual([1, 2]);
    expect((await httpRequest(gateway.baseUrl, '/readyz')).body).toMatchObject({ status: 'ready', kafka: 'running' });
  }, 120_000);
});
