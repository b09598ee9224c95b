import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, Producer, stringSerializers } from '@platformatic/kafka';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/mint-token.js';
import { dropDatabase, freshPostgresUrl } from '../helpers/databases.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanEnv, HeraldProcess } from '../helpers/herald-process.js';
import { httpRequest } from '../helpers/http-request.js';
import { freshTopic, kafkaBrokers, type TestRecord } from '../helpers/kafka.js';
import { metricValue } from '../helpers/metric-value.js';
import { startStoppablePostgres } from '../helpers/stoppable-postgres.js';
import { waitUntil } from '../helpers/wait-until.js';
import { TestClient } from '../helpers/ws-client.js';
import { pgClient } from '../helpers/pg-client.js';

// The failures that Kafka ingestion must survive without losing, repeating or reordering an event: the gateway
// killed with SIGKILL in the middle of a topic, the database going away under the consumer, and a second gateway
// joining the consumer group while records flow. Each test produces numbered records (payload n = 1, 2, 3 ... per
// user, in produce order) and then checks the stores themselves: every record once, each user's seqs 1..N
// carrying n 1..N.

const SECRET = 'kafka-crash-test-secret-long-enough-for-hs256';
const API_KEY = 'kafka-crash-test-api-key-0123456789';

/** The numbered records for `users`, interleaved at random across users, and how many each user gets. */
interface Workload {
  records: TestRecord[];
  /** Per user: how many records (their n runs 1..count). */
  counts: Map<string, number>;
}

/**
 * `total` records spread at random over `users`, each keyed by its user (one partition per user, so order per
 * user is Kafka's order). About half carry an explicit `id`; the others are deduplicated by their coordinates.
 * `counts` continues numbering from a previous workload of the same users.
 */
function workload(users: readonly string[], total: number, counts = new Map<string, number>()): Workload {
  const records: TestRecord[] = [];
  const next = new Map(counts);
  for (let index = 0; index < total; index++) {
    const user = users[Math.floor(Math.random() * users.length)]!;
    const n = (next.get(user) ?? 0) + 1;
    next.set(user, n);
    const value: Record<string, unknown> = { user_id: user, type: 'new_notification', payload: { n, title: `#${n}` } };
    if (Math.random() < 0.5) value['id'] = `${user}-n${n}`;
    records.push({ key: user, value });
  }
  return { records, counts: next };
}

function makeUsers(prefix: string, count: number): string[] {
  const run = randomBytes(4).toString('hex');
  return Array.from({ length: count }, (_, index) => `${prefix}-${run}-${String(index).padStart(2, '0')}`);
}

/** One stored event, as read back from the database. */
interface StoredRow {
  user_id: string;
  seq: number;
  key: string | null;
  /** The producer's payload { n }, from the event's notification row. */
  payload: string | { n: number };
}

/**
 * Checks the whole store against what was produced: exactly sum(counts) events, no (user, n) twice, and each
 * user's events numbered 1..N in seq order carrying n = 1..N (Kafka's order per user, nothing skipped).
 */
function expectExactlyOnceInOrder(rows: readonly StoredRow[], counts: ReadonlyMap<string, number>, topic: string): void {
  const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
  const byUser = new Map<string, StoredRow[]>();
  for (const row of rows) {
    const stream = byUser.get(row.user_id) ?? [];
    stream.push(row);
    byUser.set(row.user_id, stream);
  }
  const seen = new Set<string>();
  const duplicates = rows.filter((row) => {
    const id = `${row.user_id}#${nOf(row)}`;
    if (seen.has(id)) return true;
    seen.add(id);
    return false;
  });
  expect(duplicates.map((row) => `${row.user_id} n=${nOf(row)} seq=${row.seq}`), 'records stored twice').toEqual([]);
  expect(rows).toHaveLength(total);
  expect([...byUser.keys()].sort()).toEqual([...counts.keys()].sort());
  for (const [user, count] of counts) {
    const stream = [...byUser.get(user)!].sort((a, b) => a.seq - b.seq);
    const oneToN = Array.from({ length: count }, (_, index) => index + 1);
    expect(stream.map((row) => row.seq), `${user}'s seqs`).toEqual(oneToN);
    expect(stream.map(nOf), `${user}'s payloads in seq order`).toEqual(oneToN);
    for (const row of stream) {
      // The idempotency key: the producer's id, else the record's coordinates.
      expect(row.key).toMatch(new RegExp(`^(${user}-n${nOf(row)}|kafka:${topic}/\\d+/\\d+)$`));
    }
  }
}

/** The producer's n, from the notification row: JSON text on SQLite, jsonb (read as an object) on PostgreSQL. */
function nOf(row: StoredRow): number {
  const payload = typeof row.payload === 'string' ? (JSON.parse(row.payload) as { n: number }) : row.payload;
  return payload.n;
}

/** A stream event's payload n, as a tab received it. */
function frameN(frame: { payload: any }): number {
  return frame.payload.payload.n as number;
}

/** Expects a tab to have received the user's events 1..count exactly once, in order. */
async function expectTabGotAll(tab: TestClient, count: number, timeoutMs: number): Promise<void> {
  await tab.waitForSeq(count, timeoutMs);
  const oneToN = Array.from({ length: count }, (_, index) => index + 1);
  expect(tab.events.map((event) => event.seq)).toEqual(oneToN);
  expect(tab.events.map(frameN)).toEqual(oneToN);
}

/** Reads every notification of a user through GET /notifications, page by page (newest first). */
async function listAll(baseUrl: string, token: string): Promise<Array<{ payload: { n: number } }>> {
  const items: Array<{ payload: { n: number } }> = [];
  let cursor: string | null = null;
  do {
    const query: string = new URLSearchParams({ limit: '100', ...(cursor !== null && { cursor }) }).toString();
    const page = await httpRequest(baseUrl, `/notifications?${query}`, { bearer: token });
    expect(page.status).toBe(200);
    items.push(...page.body.items);
    cursor = page.body.next_cursor;
  } while (cursor !== null);
  return items;
}

/** Expects the REST inbox of every user to hold its notifications 1..N once each. */
async function expectInboxes(baseUrl: string, counts: ReadonlyMap<string, number>): Promise<void> {
  for (const [user, count] of counts) {
    const items = await listAll(baseUrl, await mintToken(SECRET, user));
    const oneToN = Array.from({ length: count }, (_, index) => index + 1);
    expect(items.map((item) => item.payload.n).reverse(), `${user}'s inbox`).toEqual(oneToN);
  }
}

/**
 * Produces records in order, each exactly once. The producer is idempotent: a send that it retries (after a
 * timeout on a busy machine, say) is not written twice, which would put a second copy of the records without an
 * id at new offsets, where they are rightly stored again, and make the counts here wrong.
 */
async function produce(topic: string, records: readonly TestRecord[]): Promise<void> {
  const producer = new Producer({
    clientId: 'herald-test-producer',
    bootstrapBrokers: kafkaBrokers(),
    serializers: stringSerializers,
    idempotent: true,
  });
  try {
    for (let start = 0; start < records.length; start += 500) {
      await producer.send({
        messages: records.slice(start, start + 500).map((record) => ({ topic, key: record.key, value: JSON.stringify(record.value) })),
      });
    }
  } finally {
    await producer.close();
  }
}

/** Each partition's committed offset for `group` (absent when nothing was committed). */
async function committedOffsets(group: string, topic: string): Promise<Map<number, bigint>> {
  const admin = new Admin({ clientId: 'herald-test-admin', bootstrapBrokers: kafkaBrokers() });
  try {
    const [result] = await admin.listConsumerGroupOffsets({ groups: [group] });
    const offsets = new Map<number, bigint>();
    for (const partition of result?.topics.find((entry) => entry.name === topic)?.partitions ?? []) {
      if (partition.committedOffset >= 0n) offsets.set(partition.partitionIndex, partition.committedOffset);
    }
    return offsets;
  } finally {
    await admin.close();
  }
}

/** Whether each partition's committed offset is `ends` says (a partition never written to may have no commit: 0). */
async function committedUpTo(group: string, topic: string, ends: ReadonlyMap<number, bigint>): Promise<boolean> {
  const committed = await committedOffsets(group, topic);
  return [...ends].every(([partition, end]) => (committed.get(partition) ?? 0n) === end);
}

/** How many members the consumer group has (0 once the last one left or its session expired). */
async function groupMembers(group: string): Promise<number> {
  const admin = new Admin({ clientId: 'herald-test-admin', bootstrapBrokers: kafkaBrokers() });
  try {
    return (await admin.describeGroups({ groups: [group] })).get(group)?.members.size ?? 0;
  } finally {
    await admin.close();
  }
}

/** Sets the group's committed offsets, as `kafka-consumer-groups --reset-offsets` would (the group must be empty). */
async function rewindGroup(group: string, topic: string, offsets: ReadonlyMap<number, bigint>): Promise<void> {
  const admin = new Admin({ clientId: 'herald-test-admin', bootstrapBrokers: kafkaBrokers() });
  try {
    const partitionOffsets = [...offsets].map(([partition, offset]) => ({ partition, offset }));
    await admin.alterConsumerGroupOffsets({ groupId: group, topics: [{ name: topic, partitionOffsets }] });
  } finally {
    await admin.close();
  }
  expect(await committedOffsets(group, topic)).toEqual(offsets);
}

/** Each partition's end offset (the offset its next record will get). */
async function endOffsets(topic: string, partitions: number): Promise<Map<number, bigint>> {
  const admin = new Admin({ clientId: 'herald-test-admin', bootstrapBrokers: kafkaBrokers() });
  try {
    // Timestamp -1 asks for the latest offset.
    const wanted = Array.from({ length: partitions }, (_, partitionIndex) => ({ partitionIndex, timestamp: -1n }));
    const [result] = await admin.listOffsets({ topics: [{ name: topic, partitions: wanted }] });
    return new Map((result?.partitions ?? []).map((partition) => [partition.partitionIndex, partition.offset]));
  } finally {
    await admin.close();
  }
}

/** A gateway's herald_kafka_consumer_lag samples, by partition. */
async function consumerLag(baseUrl: string): Promise<Map<number, number>> {
  const text = (await httpRequest(baseUrl, '/metrics')).text;
  const samples = [...text.matchAll(/^herald_kafka_consumer_lag\{partition="(\d+)"\} (\S+)$/gm)];
  return new Map(samples.map((match) => [Number(match[1]), Number(match[2])]));
}

function kafkaEnv(topic: string, group: string, extra: Record<string, string> = {}): Record<string, string> {
  return { HERALD_KAFKA_BROKERS: kafkaBrokers().join(','), HERALD_KAFKA_TOPIC: topic, HERALD_KAFKA_GROUP: group, ...extra };
}

describe('Kafka ingestion when things fail', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    // In reverse: tabs and gateways before the servers and directories they use. A failed test leaves nothing.
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.warn('cleanup failed', error);
      }
    }
  });

  it('kill -9 of the gateway in the middle of 10,000 records, then a restart: each stored once, in order, delivered', async () => {
    const topic = await freshTopic(3);
    const group = `${topic}-group`;
    const users = makeUsers('crash', 50);
    const { records, counts } = workload(users, 10_000);
    await produce(topic, records);

    const dir = mkdtempSync(join(tmpdir(), 'herald-kafka-crash-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const dataDir = join(dir, 'data');
    const env = cleanEnv({
      HERALD_HOST: '127.0.0.1',
      HERALD_PORT: '0',
      HERALD_DATA_DIR: dataDir,
      HERALD_JWT_SECRET: SECRET,
      HERALD_API_KEY: API_KEY,
      HERALD_LOG_LEVEL: 'info',
      // Small batches: many store-then-commit steps, so that the kill lands between two of them.
      ...kafkaEnv(topic, group, { HERALD_KAFKA_BATCH_SIZE: '100' }),
    });
    const start = async (): Promise<{ child: HeraldProcess; url: string }> => {
      const child = new HeraldProcess(['start'], { cwd: dir, env });
      cleanups.push(async () => {
        child.kill('SIGKILL');
        await child.exited;
      });
      const line = await child.waitForLog((entry) => entry['msg'] === 'Herald is listening', 30_000);
      return { child, url: line['url'] as string };
    };
    const readRows = (): StoredRow[] => {
      const db = new BetterSqlite3(join(dataDir, 'herald.db'), { readonly: true, fileMustExist: true });
      try {
        return db.prepare('SELECT e.user_id, e.seq, e.key, n.payload FROM events e JOIN notifications n ON n.id = e.notification_id').all() as StoredRow[];
      } finally {
        db.close();
      }
    };

    const first = await start();
    // The kill is triggered by the rows themselves, read here, not by an HTTP answer of the gateway: so it lands
    // wherever the gateway happens to be (inside a transaction, between storing and committing, on a fetch).
    const probe = new BetterSqlite3(join(dataDir, 'herald.db'), { readonly: true, fileMustExist: true });
    try {
      const count = probe.prepare('SELECT count(*) AS n FROM events').pluck();
      const deadline = Date.now() + 60_000;
      while ((count.get() as number) < 2_000) {
        if (Date.now() > deadline) throw new Error(`the first gateway stored ${String(count.get())} records in 60 s`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      // A batch takes some tens of milliseconds here: a random pause moves the kill to a random point of one.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 30));
      first.child.kill('SIGKILL');
    } finally {
      probe.close();
    }
    expect(await first.child.exited).toEqual({ code: null, signal: 'SIGKILL' });

    const atKill = readRows();
    const committedAtKill = await committedOffsets(group, topic);
    expect(atKill.length).toBeGreaterThanOrEqual(2_000);
    expect(atKill.length, 'the kill landed before the end of the topic').toBeLessThan(10_000);
    // Commit after store: nothing was committed that was not stored (per partition, below, once it is known
    // which users each partition holds).
    const committedTotal = [...committedAtKill.values()].reduce((sum, offset) => sum + Number(offset), 0);
    expect(committedTotal, 'records committed at the kill').toBeLessThanOrEqual(atKill.length);

    // Whether the kill fell between a store and its commit is down to timing. Make it certain: move each committed
    // offset back by up to 300 records, the state such a kill leaves, so that the restart reads stored records
    // again (both kinds: with an id and keyed by offset). The group must be empty for that, i.e. the killed member's
    // session must have expired.
    const replayFrom = new Map<number, bigint>();
    await waitUntil(async () => (await groupMembers(group)) === 0, 'the killed member leaves the group', 60_000);
    for (const [partition, committed] of committedAtKill) replayFrom.set(partition, committed > 300n ? committed - 300n : 0n);
    await rewindGroup(group, topic, replayFrom);

    const second = await start();
    const wsUrl = `${second.url.replace(/^http/, 'ws')}/ws/notifications`;
    // Two tabs that resume from the start while the second gateway is still consuming: replay, then live.
    const watched = users.slice(0, 2);
    const tabs = await Promise.all(watched.map(async (user) => TestClient.open(wsUrl, await mintToken(SECRET, user), 0)));
    cleanups.push(() => Promise.all(tabs.map((tab) => tab.close())).then(() => undefined));

    await waitUntil(() => readRows().length >= 10_000, 'all 10,000 records are stored', 90_000);
    // Every partition committed to its end: nothing is left for a replay to add.
    const ends = await endOffsets(topic, 3);
    expect(ends.size).toBe(3);
    await waitUntil(
      () => committedUpTo(group, topic, ends),
      'the group committed every partition to its end',
      30_000,
    );

    const rows = readRows();
    expectExactlyOnceInOrder(rows, counts, topic);

    // Commit after store: at the kill, no partition's committed offset was past what that partition had stored.
    // A partition is consumed from offset 0 in order, so what it had stored is the offsets below that count.
    const partitionOf = new Map<string, number>();
    for (const row of rows) {
      const match = /^kafka:[^/]+\/(\d+)\/\d+$/.exec(row.key ?? '');
      if (match) partitionOf.set(row.user_id, Number(match[1]));
    }
    const storedAtKill = new Map<number, number>();
    for (const row of atKill) {
      const partition = partitionOf.get(row.user_id)!;
      storedAtKill.set(partition, (storedAtKill.get(partition) ?? 0) + 1);
    }
    for (const [partition, committed] of committedAtKill) {
      expect(Number(committed), `partition ${partition} committed at the kill`).toBeLessThanOrEqual(storedAtKill.get(partition) ?? 0);
    }

    // The second gateway stored exactly what the first had not, and read again at least everything between
    // where it started and what the first had stored, finding each of those already stored.
    const replayed = [...storedAtKill].reduce((sum, [partition, stored]) => sum + stored - Number(replayFrom.get(partition) ?? 0n), 0);
    // How many depends on where in a batch the kill fell (timing), so only that some were read again is known.
    expect(replayed).toBeGreaterThan(0);
    expect(await metricValue(second.url, 'herald_kafka_records_total', { outcome: 'stored' })).toBe(10_000 - atKill.length);
    expect(await metricValue(second.url, 'herald_kafka_records_total', { outcome: 'duplicate' })).toBeGreaterThanOrEqual(replayed);
    await expectInboxes(second.url, counts);
    for (const [index, user] of watched.entries()) await expectTabGotAll(tabs[index]!, counts.get(user)!, 30_000);
  }, 180_000);

  it('keeps retrying while PostgreSQL is down, then stores every record once and delivers it in order', async () => {
    const postgres = await startStoppablePostgres();
    cleanups.push(() => postgres.remove());

    const topic = await freshTopic(3);
    const group = `${topic}-group`;
    const gateway: TestGateway = await startGateway('postgres', {
      databaseUrl: postgres.url,
      env: { HERALD_JWT_SECRET: SECRET, ...kafkaEnv(topic, group) },
    });
    cleanups.push(() => gateway.close());
    const stored = (): Promise<number> => metricValue(gateway.baseUrl, 'herald_kafka_records_total', { outcome: 'stored' });
    const retries = (): Promise<number> => metricValue(gateway.baseUrl, 'herald_kafka_retries_total');

    const users = makeUsers('outage', 4);
    // Tabs open from the start and through the outage: they must see every event, none skipped or repeated.
    const tabs = await Promise.all(users.slice(0, 2).map(async (user) => TestClient.open(gateway.wsUrl, await mintToken(SECRET, user), 0)));
    cleanups.push(() => Promise.all(tabs.map((tab) => tab.close())).then(() => undefined));
    await Promise.all(tabs.map((tab) => tab.waitForType('connected')));

    const before = workload(users, 200);
    await produce(topic, before.records);
    await waitUntil(async () => (await stored()) === 200, 'the records before the outage are stored', 30_000);
    const storedEnds = await endOffsets(topic, 3);
    await waitUntil(() => committedUpTo(group, topic, storedEnds), 'the stored records are committed', 30_000);

    await postgres.stop();
    const during = workload(users, 300, before.counts);
    await produce(topic, during.records);
    await waitUntil(
      async () => (await httpRequest(gateway.baseUrl, '/readyz')).body.kafka === 'retrying',
      '/readyz reports the consumer retrying',
      30_000,
    );
    const retriesSeen = await retries();
    // The number of retries by now depends on the backoff timer against this test's polling: not a fixed count.
    expect(retriesSeen).toBeGreaterThan(0);
    await waitUntil(async () => (await retries()) > retriesSeen, 'the consumer retries again', 30_000);
    const down = await httpRequest(gateway.baseUrl, '/readyz');
    expect(down).toMatchObject({ status: 503, body: { database: 'unreachable', kafka: 'retrying' } });
    expect(await stored()).toBe(200);
    // Offsets are committed only after storing: none moved past the records stored before the outage.
    expect(await committedUpTo(group, topic, storedEnds), 'offsets committed while nothing could be stored').toBe(true);

    await postgres.start();
    await waitUntil(async () => (await stored()) >= 500, 'the records produced during the outage are stored', 60_000);
    expect(await httpRequest(gateway.baseUrl, '/readyz')).toMatchObject({ status: 200, body: { database: 'ok', kafka: 'running' } });
    // And the consumer goes on after it.
    const after = workload(users, 100, during.counts);
    await produce(topic, after.records);
    await waitUntil(async () => (await stored()) >= 600, 'the records after the outage are stored', 30_000);

    expect(await stored()).toBe(600);
    await expectInboxes(gateway.baseUrl, after.counts);
    for (const [index, tab] of tabs.entries()) await expectTabGotAll(tab, after.counts.get(users[index]!)!, 30_000);
    const client = pgClient(gateway.databaseUrl);
    await client.connect();
    try {
      const { rows } = await client.query<StoredRow>('SELECT e.user_id, e.seq, e.key, n.payload FROM events e JOIN notifications n ON n.id = e.notification_id WHERE e.user_id = ANY($1)', [users]);
      expectExactlyOnceInOrder(rows, after.counts, topic);
    } finally {
      await client.end();
    }
  }, 180_000);

  it('a second gateway joining the group while records flow neither loses nor repeats nor reorders', async () => {
    const databaseUrl = await freshPostgresUrl();
    cleanups.push(() => dropDatabase(databaseUrl));
    const topic = await freshTopic(6);
    const group = `${topic}-group`;
    const env = { HERALD_JWT_SECRET: SECRET, ...kafkaEnv(topic, group, { HERALD_KAFKA_BATCH_SIZE: '100' }) };
    const users = makeUsers('rebalance', 30);

    const first = await startGateway('postgres', { databaseUrl, env });
    cleanups.push(() => first.close());
    const storedBy = (gateway: TestGateway): Promise<number> =>
      metricValue(gateway.baseUrl, 'herald_kafka_records_total', { outcome: 'stored' });

    // Alone in the group, the first gateway owns all six partitions and reports their lag (read every few
    // seconds); after the rebalance, the ones it gave away must leave its /metrics.
    const warmup = workload(users, 60);
    await produce(topic, warmup.records);
    await waitUntil(async () => (await consumerLag(first.baseUrl)).size === 6, 'the first gateway reports lag of six partitions', 30_000);

    const one = workload(users, 2_000, warmup.counts);
    await produce(topic, one.records);
    await waitUntil(async () => (await storedBy(first)) >= 560, 'the first gateway is consuming', 30_000);

    // The second gateway joins while the first is still working through the topic and more is produced.
    const two = workload(users, 2_000, one.counts);
    const [second] = await Promise.all([startGateway('postgres', { databaseUrl, env }), produce(topic, two.records)]);
    cleanups.push(() => second.close());
    await waitUntil(
      async () => (await httpRequest(second.baseUrl, '/readyz')).body.kafka === 'running',
      'the second gateway is consuming',
      30_000,
    );
    const three = workload(users, 2_000, two.counts);
    await produce(topic, three.records);

    const total = 6_060;
    const client = pgClient(databaseUrl);
    await client.connect();
    cleanups.push(() => client.end());
    const count = async (): Promise<number> => Number((await client.query('SELECT count(*) AS n FROM events')).rows[0].n);
    await waitUntil(async () => (await count()) >= total, 'every record is stored', 90_000);
    const ends = await endOffsets(topic, 6);
    expect(ends.size).toBe(6);
    await waitUntil(
      () => committedUpTo(group, topic, ends),
      'the group committed every partition to its end',
      60_000,
    ).catch(async (error: Error) => {
      const committed = await committedOffsets(group, topic);
      const lags = await Promise.all([consumerLag(first.baseUrl), consumerLag(second.baseUrl)]);
      const lag = lags.map((samples) => [...samples].join(' ')).join(' | ');
      throw new Error(`${error.message}: ends ${[...ends].join(' ')}; committed ${[...committed].join(' ')}; lag ${lag}`);
    });
    // Consumer lag in /metrics: each partition reported by the one gateway that owns it, at 0. (The client reads
    // lag every few seconds.)
    await waitUntil(
      async () => {
        const [lagFirst, lagSecond] = await Promise.all([consumerLag(first.baseUrl), consumerLag(second.baseUrl)]);
        const reported = [...lagFirst.keys(), ...lagSecond.keys()].sort();
        const behind = [...lagFirst.values(), ...lagSecond.values()].filter((lag) => lag !== 0);
        return reported.join() === '0,1,2,3,4,5' && behind.length === 0;
      },
      'every partition shows lag 0 on its owner only',
      30_000,
    );
    const storedByFirst = await storedBy(first);
    const storedBySecond = await storedBy(second);
    // Stopped before the final read, so that a late batch of either could not add to it afterwards.
    await Promise.all([first.close(), second.close()]);

    // The split between the two is down to when the rebalance happened; only their sum is exact.
    expect(storedByFirst, 'the first gateway stored records').toBeGreaterThan(0);
    expect(storedBySecond, 'the second gateway took partitions and stored records').toBeGreaterThan(0);
    expect(storedByFirst + storedBySecond).toBe(total);
    const { rows } = await client.query<StoredRow>('SELECT e.user_id, e.seq, e.key, n.payload FROM events e JOIN notifications n ON n.id = e.notification_id');
    expectExactlyOnceInOrder(rows, three.counts, topic);
  }, 180_000);
});
