import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Admin, Consumer, Producer, ProduceAcks, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import type { TestProject } from 'vitest/node';
import { freePort } from '../helpers/free-port.js';

const run = promisify(execFile);
const script = new URL('../../../../scripts/kafka.sh', import.meta.url).pathname;

/**
 * Provides `kafkaBrokers` to every test file: HERALD_TEST_KAFKA_BROKERS when set, else a real single-node
 * Apache Kafka broker that scripts/kafka.sh starts for this run on free ports, in a data directory of its own,
 * and that is stopped and deleted after the run. Tests create their own topics and groups on it. Either broker
 * is first checked (checkBroker): when the broker itself is broken, the run fails here, saying so, rather than in
 * every Kafka suite as if Herald's consumer were at fault.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.HERALD_TEST_KAFKA_BROKERS;
  if (external !== undefined && external !== '') {
    await checkBroker(external);
    project.provide('kafkaBrokers', external);
    return async () => {};
  }

  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-kafka-'));
  const env = {
    ...process.env,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_DATA_DIR: dataDir,
    // If this runner dies without its teardown (Ctrl-C, kill -9), the script stops the broker anyway.
    KAFKA_STOP_WITH_PID: String(process.pid),
  };

  let stdout: string;
  try {
    // The first run on a machine fetches the jars through Maven (half a minute or more), hence minutes here;
    // the script itself gives up 90 s after launching the broker.
    ({ stdout } = await run(script, ['start'], { env, timeout: 10 * 60_000 }));
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    const { stderr } = error as { stderr?: string };
    throw new Error(`scripts/kafka.sh start failed; set HERALD_TEST_KAFKA_BROKERS to use a running broker\n${stderr ?? ''}`, {
      cause: error,
    });
  }
  const teardown = async (): Promise<void> => {
    try {
      await run(script, ['stop'], { env });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  };
  const brokers = /^KAFKA_BROKERS=(\S+)$/m.exec(stdout)?.[1];
  if (brokers === undefined) {
    await teardown();
    throw new Error(`scripts/kafka.sh start printed no broker address: ${stdout}`);
  }
  try {
    await checkBroker(brokers);
  } catch (error) {
    await teardown();
    throw error;
  }
  project.provide('kafkaBrokers', brokers);
  return teardown;
}

const CHECK_TIMEOUT_MS = 15_000;
const CHECK_CLIENT = 'herald-broker-check';

/**
 * What every Kafka suite relies on, done once against the broker: create a topic with three partitions, produce
 * records with keys and headers (acks=all), read them back in a consumer group, delete the topic. Throws an
 * error that names the broker and the step that failed.
 */
export async function checkBroker(brokers: string): Promise<void> {
  const bootstrapBrokers = brokers.split(',');
  const topic = `herald-broker-check-${randomBytes(6).toString('hex')}`;
  const progress = { step: 'creating a topic' };
  const admin = new Admin({ clientId: CHECK_CLIENT, bootstrapBrokers });
  try {
    await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
    try {
      await roundTrip(bootstrapBrokers, topic, progress);
    } catch (error) {
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      throw error;
    }
    progress.step = 'deleting the topic';
    await admin.deleteTopics({ topics: [topic] });
  } catch (error) {
    throw new Error(`The Kafka broker at ${brokers} failed the test run's check while ${progress.step}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** Produces three keyed records with a header each and reads exactly those back in a new group. */
async function roundTrip(bootstrapBrokers: string[], topic: string, progress: { step: string }): Promise<void> {
  progress.step = 'producing records with keys and headers';
  const sent = ['alice', 'bob', 'carol'].map((user) => ({ key: user, value: `{"user_id":"${user}"}`, header: `h-${user}` }));
  const producer = new Producer({
    clientId: CHECK_CLIENT,
    bootstrapBrokers,
    serializers: stringSerializers,
    acks: ProduceAcks.ALL,
    // On a loaded machine a send can time out and be retried: without idempotence that writes it twice.
    idempotent: true,
  });
  try {
    await producer.send({ messages: sent.map(({ key, value, header }) => ({ topic, key, value, headers: { 'herald-check': header } })) });
  } finally {
    await producer.close();
  }

  progress.step = `consuming them in a consumer group (within ${CHECK_TIMEOUT_MS / 1000} s)`;
  const consumer = new Consumer({ clientId: CHECK_CLIENT, groupId: `${topic}-group`, bootstrapBrokers, deserializers: stringDeserializers });
  const received: Array<{ key: string | undefined; value: string; header: string | undefined; partition: number }> = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 200 });
    // A broken broker would leave the loop waiting for ever: end it with what arrived so far.
    const timer = setTimeout(() => stream.destroy(new Error(`${received.length} of ${sent.length} records arrived`)), CHECK_TIMEOUT_MS);
    // Delivery is at least once: a record fetched again (after a rebalance of the new group) is one record.
    const seen = new Set<string>();
    try {
      for await (const message of stream) {
        const position = `${message.partition}/${message.offset}`;
        if (seen.has(position)) continue;
        seen.add(position);
        received.push({ key: message.key, value: message.value, header: message.headers.get('herald-check'), partition: message.partition });
        if (received.length === sent.length) break;
      }
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer.close(true);
  }

  // Order holds within a partition only, and the three keys may land in different ones.
  received.sort((a, b) => String(a.key).localeCompare(String(b.key)));
  const got = JSON.stringify(received.map(({ key, value, header }) => ({ key, value, header })));
  if (got !== JSON.stringify(sent)) throw new Error(`sent ${JSON.stringify(sent)}, received ${got}`);
  const strays = received.filter(({ partition }) => ![0, 1, 2].includes(partition));
  if (strays.length > 0) throw new Error(`records came from partition ${strays[0]!.partition} of a topic of three`);
}
