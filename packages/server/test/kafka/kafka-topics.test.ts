import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StartupError } from '../../src/errors.js';
import { startGateway, TEST_API_KEY, TEST_SECRET, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { mintToken } from '../../src/auth/mint-token.js';
import { cleanEnv, runHerald, startHerald, type StartedHerald } from '../helpers/herald-process.js';
import { httpRequest } from '../helpers/http-request.js';
import { createTopic, freshTopicName, kafkaEnv, produce, readTopic, withAdmin } from '../helpers/kafka.js';
import { metricValue } from '../helpers/metric-value.js';
import { waitUntil } from '../helpers/wait-until.js';

// What Herald does with the topics a team has: one auto-created by the first produce (no dead-letter twin), one
// that does not exist yet, and clusters where topics are provisioned and Herald must not make any.

const good = (user: string, n: number) => ({ key: user, value: { user_id: user, type: 'new_notification', payload: { n } } });


const topicShape = (topic: string) =>
  withAdmin(async (admin) => {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
    return metadata.topics.get(topic)?.partitionsCount;
  });

describe('the topics Herald consumes', () => {
  let gateway: TestGateway | undefined;
  let started: StartedHerald | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await gateway?.close();
    started?.child.kill('SIGTERM');
    await started?.child.exited;
    if (dir) rmSync(dir, { recursive: true, force: true });
    gateway = started = dir = undefined;
  });

  it('creates a missing dead-letter topic with the topic’s partitions, so a bad record never wedges its partition', async () => {
    const topic = freshTopicName();
    await createTopic(topic, 3);
    gateway = await startGateway('sqlite', { env: kafkaEnv(topic) });
    expect(await topicShape(`${topic}.dlq`)).toBe(3);

    const user = uniqueUser('auto');
    await produce(topic, [good(user, 1), { key: user, value: '{"user_id": ' }, good(user, 2)]);
    await waitUntil(async () => (await gateway!.asUser(user, '/notifications')).body.items.length === 2, 'both good records stored', 20_000);
    const [letter] = await readTopic(`${topic}.dlq`, 1);
    expect(letter).toMatchObject({ key: user, value: '{"user_id": ', headers: { 'herald-error': 'value is not valid JSON' } });
    expect((await httpRequest(gateway.baseUrl, '/readyz')).body).toMatchObject({ status: 'ready', kafka: 'running' });
  });

  it('waits quietly for a topic that does not exist yet, says why in /readyz, and consumes it once it is made', async () => {
    const topic = freshTopicName();
    dir = mkdtempSync(join(tmpdir(), 'herald-topic-wait-'));
    started = await startHerald(dir, { HERALD_JWT_SECRET: TEST_SECRET, HERALD_API_KEY: TEST_API_KEY, HERALD_LOG_LEVEL: 'info', ...kafkaEnv(topic) });
    const waiting = async () => (await httpRequest(started!.url, '/readyz')).body.kafka === 'waiting';
    await waitUntil(waiting, 'the source waits for the topic', 15_000);
    const ready = await httpRequest(started.url, '/readyz');
    // Waiting for a topic keeps the node ready: it serves its sockets and HTTP, and there is nothing to miss yet.
    expect(ready).toMatchObject({ status: 200, body: { status: 'ready', kafka: 'waiting', kafka_reason: `topic ${topic} does not exist yet` } });
    // Several polls later, still one line about it, and no stack trace.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const lines = started.child.stdout.split('\n').filter((line) => line.includes(topic) || line.includes('kafka'));
    expect(lines.filter((line) => line.includes('does not exist yet'))).toHaveLength(1);
    expect(started.child.stdout + started.child.stderr).not.toMatch(/\bat .*\.js:\d+/);

    await createTopic(topic, 2);
    await waitUntil(async () => (await httpRequest(started!.url, '/readyz')).body.kafka === 'running', 'the source runs', 20_000);
    expect(await topicShape(`${topic}.dlq`)).toBe(2);
    const user = uniqueUser('late');
    await produce(topic, [good(user, 1)]);
    const token = await mintToken(TEST_SECRET, user);
    await waitUntil(
      async () => (await httpRequest(started!.url, '/notifications', { bearer: token })).body.items?.length === 1,
      'the record is stored',
      20_000,
    );
  }, 60_000);

  describe('with HERALD_KAFKA_CREATE_TOPICS=false', () => {
    it('refuses to start without the topic, naming it and the variable', async () => {
      const topic = freshTopicName();
      const failure = await startGateway('sqlite', { env: kafkaEnv(topic, { HERALD_KAFKA_CREATE_TOPICS: 'false' }) }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(StartupError);
      expect((failure as Error).message).toBe(`Kafka topic ${topic} does not exist (HERALD_KAFKA_TOPIC; HERALD_KAFKA_CREATE_TOPICS=false)`);
    });

    it('refuses to start without the dead-letter topic, and creates none', async () => {
      const topic = freshTopicName();
      await createTopic(topic, 1);
      const failure = await startGateway('sqlite', { env: kafkaEnv(topic, { HERALD_KAFKA_CREATE_TOPICS: 'false' }) }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect((failure as Error).message).toBe(
        `Kafka dead-letter topic ${topic}.dlq does not exist (HERALD_KAFKA_DLQ_TOPIC; HERALD_KAFKA_CREATE_TOPICS=false)`,
      );
      expect(await withAdmin((admin) => admin.listTopics())).not.toContain(`${topic}.dlq`);
    });

    it('names a chosen dead-letter topic', async () => {
      const topic = freshTopicName();
      await createTopic(topic, 1);
      const env = kafkaEnv(topic, { HERALD_KAFKA_CREATE_TOPICS: 'false', HERALD_KAFKA_DLQ_TOPIC: `${topic}-rejects` });
      const failure = await startGateway('sqlite', { env }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect((failure as Error).message).toContain(`${topic}-rejects does not exist (HERALD_KAFKA_DLQ_TOPIC`);
    });

    it('starts when both exist, and stops the process with one line when one does not', async () => {
      const topic = freshTopicName();
      await createTopic(topic, 1);
      await createTopic(`${topic}.dlq`, 1);
      gateway = await startGateway('sqlite', { env: kafkaEnv(topic, { HERALD_KAFKA_CREATE_TOPICS: 'false' }) });
      await waitUntil(async () => (await httpRequest(gateway!.baseUrl, '/readyz')).body.kafka === 'running', 'the source runs', 20_000);

      dir = mkdtempSync(join(tmpdir(), 'herald-topic-missing-'));
      const missing = freshTopicName();
      const run = await runHerald(['start'], {
        cwd: dir,
        env: cleanEnv({
          HERALD_HOST: '127.0.0.1',
          HERALD_PORT: '0',
          HERALD_DATA_DIR: join(dir, 'data'),
          HERALD_JWT_SECRET: TEST_SECRET,
          HERALD_API_KEY: TEST_API_KEY,
          ...kafkaEnv(missing, { HERALD_KAFKA_CREATE_TOPICS: 'false' }),
        }),
        timeoutMs: 30_000,
      });
      expect(run.code).not.toBe(0);
      const output = (run.stdout + run.stderr).trim();
      expect(output).toContain(`Kafka topic ${missing} does not exist (HERALD_KAFKA_TOPIC; HERALD_KAFKA_CREATE_TOPICS=false)`);
      expect(output).not.toMatch(/\bat .*\.js:\d+/);
    });
  });

  it('rejects a HERALD_KAFKA_CREATE_TOPICS that is not true or false', async () => {
    for (const value of ['yes', '1', 'TRUE', 'false ', 'on']) {
      const failure = await startGateway('sqlite', { env: kafkaEnv(freshTopicName(), { HERALD_KAFKA_CREATE_TOPICS: value }) }).then(
        (started) => started.close(),
        (error: unknown) => error,
      );
      expect(failure, value).toBeInstanceOf(StartupError);
      expect((failure as Error).message, value).toContain('HERALD_KAFKA_CREATE_TOPICS');
    }
  });

  it('counts nothing as stopped while the source runs', async () => {
    const topic = freshTopicName();
    await createTopic(topic, 1);
    gateway = await startGateway('sqlite', { env: kafkaEnv(topic) });
    await waitUntil(async () => (await httpRequest(gateway!.baseUrl, '/readyz')).body.kafka === 'running', 'the source runs', 20_000);
    expect(await metricValue(gateway.baseUrl, 'herald_kafka_consumer_stopped')).toBe(0);
  });
});
