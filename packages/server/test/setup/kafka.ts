import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { freePort } from '../helpers/free-port.js';

const run = promisify(execFile);
const script = new URL('../../../../scripts/kafka.sh', import.meta.url).pathname;

/**
 * Provides `kafkaBrokers` to every test file: HERALD_TEST_KAFKA_BROKERS when set, else a real single-node
 * Apache Kafka broker that scripts/kafka.sh starts for this run on free ports, in a data directory of its own,
 * and that is stopped and deleted after the run. Tests create their own topics and groups on it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.HERALD_TEST_KAFKA_BROKERS;
  if (external !== undefined && external !== '') {
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
  project.provide('kafkaBrokers', brokers);
  return teardown;
}
