import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { createTopic, freshTopicName, kafkaBrokers, kafkaEnv } from '../helpers/kafka.js';
import { readmeBlockAfter } from '../helpers/readme.js';
import { waitUntil } from '../helpers/wait-until.js';

// The README's Kafka examples, their kcat commands run as written (with librdkafka's kcat, Debian's package):
// only the broker's address and the topic are the test's own.

/** The `echo … | kcat …` command of the first sh block after the line starting with `anchor`. */
function kcatCommand(anchor: string): string {
  const block = readmeBlockAfter(anchor);
  const lines = block.split('\n');
  const start = lines.findIndex((line) => line.startsWith('echo '));
  if (start < 0 || !lines[start]!.trimEnd().endsWith('|')) throw new Error(`no echo … | kcat command after ${anchor}`);
  // The kcat line may end with a comment for the reader.
  return `${lines[start]}\n${(lines[start + 1] ?? '').replace(/\s+# .*$/, '')}`;
}

function runKcat(command: string, topicInReadme: string, topic: string): void {
  const local = command.replaceAll('127.0.0.1:9092', kafkaBrokers().join(',')).replace(`-t ${topicInReadme} `, `-t ${topic} `);
  expect(local).toContain(`-t ${topic} `);
  const run = spawnSync('bash', ['-c', local], { encoding: 'utf8', timeout: 30_000 });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
}

describe("the README's Kafka examples, with kcat", () => {
  let gateway: TestGateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });

  it('a record produced as the Kafka section shows reaches the user’s inbox', async () => {
    const topic = freshTopicName();
    await createTopic(topic, 3);
    gateway = await startGateway('sqlite', { env: kafkaEnv(topic) });
    runKcat(kcatCommand('## Kafka ingestion'), 'notifications', topic);
    await waitUntil(async () => (await gateway!.asUser('alice', '/notifications')).body.items?.length === 1, 'alice has it', 20_000);
    expect((await gateway.asUser('alice', '/notifications')).body.items[0].payload).toEqual({ title: 'From Kafka' });
  }, 60_000);

  it('a record of an existing topic, typed and identified by headers, is consumed with HERALD_KAFKA_FORMAT=headers', async () => {
    const topic = freshTopicName();
    await createTopic(topic, 3);
    runKcat(kcatCommand('### Topics that already exist'), 'billing-events', topic);
    gateway = await startGateway('sqlite', { env: kafkaEnv(topic, { HERALD_KAFKA_FORMAT: 'headers' }) });
    await waitUntil(async () => (await gateway!.asUser('alice', '/notifications')).body.items?.length === 1, 'alice has it', 20_000);
    const [item] = (await gateway.asUser('alice', '/notifications')).body.items;
    expect(item).toMatchObject({ key: 'invoice-42-paid', payload: { title: 'Invoice 42 paid', url: '/invoices/42' } });
  }, 60_000);
});
