import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBroker } from '../../src/broker/memory-broker.js';
import { Delivery } from '../../src/deliver.js';
import { KafkaSource } from '../../src/ingest/kafka-source.js';
import { createLogger } from '../../src/logger.js';
import { Metrics } from '../../src/metrics.js';
import { createStore } from '../../src/store/create-store.js';
import type { Store } from '../../src/store/store.js';
import { uniqueUser } from '../helpers/gateway.js';
import { freshTopic, kafkaBrokers, produce, readTopic } from '../helpers/kafka.js';
import { waitUntil } from '../helpers/wait-until.js';

/** A record value of exactly `bytes` bytes: a publish item padded in its payload. */
function valueOfSize(user: string, n: number, bytes: number): string {
  const json = JSON.stringify({ user_id: user, type: 'new_notification', payload: { n, pad: '' } });
  const padded = json.replace('"pad":""', `"pad":"${'x'.repeat(bytes - json.length)}"`);
  expect(Buffer.byteLength(padded)).toBe(bytes);
  return padded;
}

// The source on its own, on a real broker, store and delivery, with a limit far below the 1 MiB default, so
// that the limit it is given is what decides, not a constant.
describe('the Kafka record limit (maxRecordBytes)', () => {
  let source: KafkaSource | undefined;
  let store: Store | undefined;
  let dataDir: string | undefined;
  afterEach(async () => {
    await source?.stop();
    await store?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    source = store = dataDir = undefined;
  });

  it('dead-letters a record over the limit with a reason that names it, and stores the records behind it in order', async () => {
    const topic = await freshTopic(1);
    dataDir = mkdtempSync(join(tmpdir(), 'herald-kafka-limit-'));
    store = createStore(join(dataDir, 'herald.db'));
    await store.migrate();
    const metrics = new Metrics({ connections: () => 0, users: () => 0 });
    source = new KafkaSource({
      config: { brokers: kafkaBrokers(), topic, group: `${topic}-group`, batchSize: 100, deadLetterTopic: `${topic}.dlq`, createTopics: true, format: 'json' },
      delivery: new Delivery(store, new MemoryBroker(), metrics),
      metrics,
      logger: createLogger('silent'),
      maxRecordBytes: 2048,
    });
    const user = uniqueUser('limit');
    const over = valueOfSize(user, 1, 2049);
    await produce(topic, [
      { key: user, value: over },
      { key: user, value: { user_id: user, type: 'new_notification', payload: { n: 2 } } },
      { key: user, value: valueOfSize(user, 3, 2048) },
    ]);
    source.start();

    await waitUntil(async () => (await store!.headSeq(user)) === 2, 'the two records behind the large one are stored', 20_000);
    const events = await store.eventsAfter(user, 0, 10);
    expect(events.map((event) => [event.seq, (event.payload as { payload: { n: number } }).payload.n])).toEqual([
      [1, 2],
      [2, 3],
    ]);
    const [dead] = await readTopic(`${topic}.dlq`, 1);
    expect(dead).toEqual({
      key: user,
      value: over,
      headers: { 'herald-error': 'value is larger than 2048 bytes', 'herald-source': `${topic}/0/0` },
    });
    const outcomes = Object.fromEntries((await metrics.kafkaRecords.get()).values.map((entry) => [entry.labels.outcome, entry.value]));
    expect(outcomes).toMatchObject({ dead_lettered: 1, stored: 2 });
  }, 60_000);
});
