import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/create-store.js';
import { dropDatabase, freshDatabaseUrl } from '../helpers/databases.js';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { httpRequest } from '../helpers/http-request.js';
import { createTopic, freshTopicName, kafkaEnv, produceRaw, readTopic } from '../helpers/kafka.js';
import { metricValue } from '../helpers/metric-value.js';
import { waitUntil } from '../helpers/wait-until.js';
import { TestClient } from '../helpers/ws-client.js';

// A backlog waiting in the topic is consumed in batches of thousands: on a SQLite file each is stored on the
// append thread, and the next batch is stored while the last one is delivered. Nothing of that may show: every
// record is stored and delivered once, in its partition's order, a record the database refuses is dead-lettered
// from the middle of such a batch, and the records after it still come in order.

// One partition, so that the backlog is batches of 5,000 (HERALD_KAFKA_BATCH_SIZE
// default), each with a refused record inside, and the next one decoded while one is stored.
const RECORDS = 12_500;
const POISONED = new Set([1_200, 6_000, 11_000]);

describe('a Kafka backlog on a SQLite file', () => {
  let gateway: TestGateway | undefined;
  let onTeardown: (() => Promise<void>) | undefined;
  const tabs: TestClient[] = [];
  afterEach(async () => {
    await Promise.all(tabs.map((tab) => tab.close()));
    tabs.length = 0;
    await gateway?.close();
    await onTeardown?.();
    gateway = onTeardown = undefined;
  });

  it('stores and delivers every record once and in order, and dead-letters the refused ones from the middle of a batch', async () => {
    const topic = freshTopicName();
    // Two users, so that neither passes HERALD_MAX_NOTIFICATIONS_PER_USER (10,000), which would trim the oldest.
    const users = [uniqueUser('backlog-a'), uniqueUser('backlog-b')];
    const userOf = (n: number): string => users[n % 2]!;
    await createTopic(topic, 1);
    const records = Array.from({ length: RECORDS }, (_, index) => {
      const n = index + 1;
      const payload = POISONED.has(n) ? { n, poison: true } : { n };
      const user = userOf(n);
      return { key: user, value: JSON.stringify({ user_id: user, id: `${user}-${n}`, type: 'new_notification', payload }) };
    });
    for (let start = 0; start < RECORDS; start += 2_500) await produceRaw(topic, records.slice(start, start + 2_500));
    // The database is made, with the trigger, before the node starts: the whole backlog is in the topic when it
    // first fetches, and no record is consumed before the trigger is there.
    const databaseUrl = await freshDatabaseUrl('sqlite');
    const migrating = createStore(databaseUrl);
    await migrating.migrate();
    await migrating.close();
    const db = new Database(databaseUrl);
    db.exec(`CREATE TRIGGER refuse_marked BEFORE INSERT ON notifications WHEN NEW.payload LIKE '%poison%'
             BEGIN SELECT RAISE(ABORT, 'poisoned payloads are refused'); END`);
    gateway = await startGateway('sqlite', { databaseUrl, env: kafkaEnv(topic) });
    onTeardown = () => dropDatabase(databaseUrl);
    for (const user of users) tabs.push(await TestClient.open(gateway.wsUrl, await gateway.token(user), 0));

    const expected = (user: string): number[] =>
      Array.from({ length: RECORDS }, (_, index) => index + 1).filter((n) => !POISONED.has(n) && userOf(n) === user);
    const stored = (user: string): number[] =>
      db.prepare("select json_extract(payload, '$.n') from notifications where user_id = ? order by seq").pluck().all(user) as number[];
    try {
      await waitUntil(async () => users.every((user) => stored(user).length === expected(user).length), 'every good record stored', 90_000);
      for (const [index, user] of users.entries()) {
        expect(stored(user)).toEqual(expected(user));
        const events = (await tabs[index]!.waitForSeq(expected(user).length, 30_000)).filter((frame) => frame.type === 'new_notification');
        expect(events.map((event) => event.seq)).toEqual(expected(user).map((_, seq) => seq + 1));
        expect(events.map((event) => event.payload.payload.n)).toEqual(expected(user));
      }
    } finally {
      db.close();
    }
    const dead = await readTopic(`${topic}.dlq`, POISONED.size, 30_000);
    expect(dead.every((record) => record.headers['herald-error']?.startsWith('the database refused the record: '))).toBe(true);
    expect(dead.map((record) => JSON.parse(record.value).payload.n)).toEqual([...POISONED]);
    expect(await metricValue(gateway.baseUrl, 'herald_kafka_records_total', { outcome: 'stored' })).toBe(RECORDS - POISONED.size);
    expect(await metricValue(gateway.baseUrl, 'herald_kafka_records_total', { outcome: 'dead_lettered' })).toBe(POISONED.size);
    expect((await httpRequest(gateway.baseUrl, '/readyz')).body).toMatchObject({ status: 'ready', kafka: 'running' });
  }, 150_000);
});
