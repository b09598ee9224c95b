import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { freshTopic, kafkaBrokers, produce, readTopic, type TestRecord } from '../helpers/kafka.js';
import { metricValue } from '../helpers/metric-value.js';
import { eventFrameSize, sentSize, sizedPayload, type StreamType } from '../ingest/frame-sized.js';
import { SizedTab } from '../ingest/sized-tab.js';

const BOUND = 4096;
const BODY = 2048;

/**
 * A Kafka record is held to the frame bound as an HTTP item is: one whose frame no tab could be sent is
 * dead-lettered with a reason naming HERALD_MAX_BUFFERED_BYTES, and the records around it are stored and
 * delivered. A record without `id` gets `kafka:<topic>/<partition>/<offset>` as its key, which its frame carries
 * too and which counts. The values stay under HERALD_MAX_BODY_BYTES (2048: the bound is more than start-up asks
 * for, so it is the bound that decides) and reach it through numbers written `1e20`, which a frame holds in 21 digits.
 */
describe('Kafka records and the frame bound', () => {
  let gateway: TestGateway;
  let topic: string;
  beforeAll(async () => {
    topic = await freshTopic(1);
    gateway = await startGateway('sqlite', {
      env: {
        HERALD_KAFKA_BROKERS: kafkaBrokers().join(','),
        HERALD_KAFKA_TOPIC: topic,
        HERALD_KAFKA_GROUP: `${topic}-group`,
        HERALD_MAX_BUFFERED_BYTES: String(BOUND),
        HERALD_MAX_BODY_BYTES: String(BODY),
      },
    });
  });
  afterAll(() => gateway.close());

  it('stores and delivers each record whose frame fits, dead-letters each one over, and the tab stays open', async () => {
    const user = uniqueUser('kafka-frame');
    const tabs = [await SizedTab.open(gateway.wsUrl, await gateway.token(user)), await SizedTab.open(gateway.wsUrl, await gateway.token(user))];
    const records: TestRecord[] = [];
    const expected: { fits: boolean; target: number; index: number }[] = [];
    const types: StreamType[] = ['new_notification', 'task_update'];
    for (const type of types) {
      for (const withId of [true, false]) {
        for (const [offset, pad] of [[-1, 'x'], [0, '😀'], [1, '"'], [0, '\n'], [1, 'é']] as const) {
          const index = records.length;
          const id = withId ? `id-${index}-"quoted"` : undefined;
          // The key a record without id is stored under: the coordinates of this record (one partition).
          const key = type === 'task_update' ? null : (id ?? `kafka:${topic}/0/${index}`);
          const target = BOUND + offset;
          const payload = sizedPayload((json) => eventFrameSize(type, json, key), target, { pad, bigNumbers: 170 });
          const value = `{"user_id":"${user}","type":"${type}","payload":${payload.text}${id ? `,"id":${JSON.stringify(id)}` : ''}}`;
          expect(Buffer.byteLength(value)).toBeLessThanOrEqual(BODY);
          records.push({ key: user, value });
          expected.push({ fits: offset <= 0, target, index });
        }
      }
    }
    records.push({ key: user, value: { user_id: user, type: 'task_update', payload: { later: true } } });
    await produce(topic, records);

    const stored = expected.filter((record) => record.fits);
    const refused = expected.filter((record) => !record.fits);
    const last = stored.length + 1;
    for (const tab of tabs) {
      await tab.event(last, 30_000);
      expect(tab.events.map((entry) => entry.frame.seq)).toEqual(Array.from({ length: last }, (_, index) => index + 1));
      stored.forEach((record, index) => expect(tab.events[index]!.bytes, `record ${record.index}`).toBe(sentSize(record.target, index + 1)));
      expect(tab.events[last - 1]!.frame.payload).toEqual({ later: true });
      tab.expectOpen();
    }

    const dead = await readTopic(`${topic}.dlq`, refused.length);
    expect(dead.map((record) => record.headers)).toEqual(
      refused.map((record) => ({
        'herald-error': `value is too large to deliver: its frame would be up to ${record.target} bytes, over HERALD_MAX_BUFFERED_BYTES (${BOUND}), the most a tab may be sent at once`,
        'herald-source': `${topic}/0/${record.index}`,
      })),
    );
    expect(dead.map((record) => record.value)).toEqual(refused.map((record) => records[record.index]!.value));
    expect(await metricValue(gateway.baseUrl, 'herald_kafka_records_total', { outcome: 'dead_lettered' })).toBe(refused.length);
    expect(await metricValue(gateway.baseUrl, 'herald_drops_total', { reason: 'slow_consumer' })).toBe(0);
    await Promise.all(tabs.map((tab) => tab.close()));
  }, 60_000);
});
