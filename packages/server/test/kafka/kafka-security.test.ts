import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Admin, ProduceAcks, Producer, stringSerializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type KafkaConfig } from '../../src/config.js';
import { Herald } from '../../src/gateway.js';
import { explainKafkaFailure, kafkaConnection } from '../../src/ingest/kafka-connection.js';
import { createLogger } from '../../src/logger.js';
import { freePort } from '../helpers/free-port.js';
import { cleanEnv, runHerald, startHerald } from '../helpers/herald-process.js';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { kafkaBrokers } from '../helpers/kafka.js';
import { makeCertificates, startSecuredBroker, type Certificates, type SecuredBroker } from '../helpers/kafka-secure.js';
import { waitUntil } from '../helpers/wait-until.js';
import { TestClient } from '../helpers/ws-client.js';

let broker: SecuredBroker;
/** An authority the broker has never heard of, with a client certificate of its own. */
let stranger: Certificates;
let scratch: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'herald-kafka-security-'));
  [broker, stranger] = await Promise.all([startSecuredBroker(), makeCertificates(join(scratch, 'stranger'))]);
}, 180_000);
afterAll(async () => {
  await broker?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** The SASL_SSL listener, as an operator would configure it: TLS with the cluster's CA, SCRAM-SHA-512. */
function saslEnv(): Record<string, string> {
  return {
    HERALD_KAFKA_BROKERS: broker.saslBrokers,
    HERALD_KAFKA_TLS: 'true',
    HERALD_KAFKA_TLS_CA_FILE: broker.certificates.ca,
    HERALD_KAFKA_SASL_MECHANISM: 'scram-sha-512',
    HERALD_KAFKA_SASL_USERNAME: broker.username,
    HERALD_KAFKA_SASL_PASSWORD: broker.password,
  };
}

/** The SSL listener, which requires a client certificate. */
function sslEnv(): Record<string, string> {
  return {
    HERALD_KAFKA_BROKERS: broker.sslBrokers,
    HERALD_KAFKA_TLS: 'true',
    HERALD_KAFKA_TLS_CA_FILE: broker.certificates.ca,
    HERALD_KAFKA_TLS_CERT_FILE: broker.certificates.clientCert,
    HERALD_KAFKA_TLS_KEY_FILE: broker.certificates.clientKey,
  };
}

function kafkaConfig(env: Record<string, string | undefined>): KafkaConfig {
  const defined = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return loadConfig(defined).kafka!;
}

/** Asks the cluster for its topics with the connection `env` configures: undefined when that works, else the error. */
async function attempt(env: Record<string, string | undefined>): Promise<unknown> {
  // No retries: a refusal is final, and the test wants the first error as a client first meets it.
  const admin = new Admin({ clientId: 'herald-security-test', ...kafkaConnection(kafkaConfig(env)), retries: 0 });
  try {
    await admin.listTopics();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** The one line explainKafkaFailure makes of the refusal a client meets with `env`; fails if it connects. */
async function refusal(env: Record<string, string | undefined>): Promise<string> {
  const error = await attempt(env);
  expect(error, 'the connection should have been refused').toBeInstanceOf(Error);
  const line = explainKafkaFailure(error, kafkaConfig(env));
  expect(line, `no explanation for ${String(error)}`).toBeTypeOf('string');
  expect(line).not.toContain('\n');
  expect(line).not.toContain(broker.password);
  return line!;
}

async function createTopic(env: Record<string, string>): Promise<string> {
  const topic = `herald-secure-${randomBytes(6).toString('hex')}`;
  const admin = new Admin({ clientId: 'herald-security-test', ...kafkaConnection(kafkaConfig(env)) });
  try {
    await admin.createTopics({ topics: [topic, `${topic}.dlq`], partitions: 3, replicas: 1 });
  } finally {
    await admin.close();
  }
  return topic;
}

async function produce(env: Record<string, string>, topic: string, values: object[]): Promise<void> {
  const producer = new Producer({
    clientId: 'herald-security-test',
    ...kafkaConnection(kafkaConfig(env)),
    serializers: stringSerializers,
    acks: ProduceAcks.ALL,
    idempotent: true,
  });
  try {
    await producer.send({ messages: values.map((value) => ({ topic, key: (value as { user_id: string }).user_id, value: JSON.stringify(value) })) });
  } finally {
    await producer.close();
  }
}

describe.each([
  ['SASL_SSL with SCRAM-SHA-512', saslEnv],
  ['SSL with a client certificate', sslEnv],
])('records flow through the %s listener', (_, envOf) => {
  let gateway: TestGateway;
  let topic: string;

  beforeAll(async () => {
    topic = await createTopic(envOf());
    gateway = await startGateway('sqlite', { env: { ...envOf(), HERALD_KAFKA_TOPIC: topic, HERALD_KAFKA_GROUP: `${topic}-group` } });
  });
  afterAll(async () => gateway?.close());

  it('from a producer on the listener, through Herald’s consumer, to the user’s socket', async () => {
    const user = uniqueUser('secure');
    const tab = await TestClient.open(gateway.wsUrl, await gateway.token(user), 0);
    try {
      await tab.waitForType('connected');
      const values = Array.from({ length: 5 }, (_, n) => ({ user_id: user, type: 'new_notification', payload: { n } }));
      await produce(envOf(), topic, values);
      const events = await tab.waitForSeq(5, 30_000);
      expect(events.map((event) => event.payload.payload.n)).toEqual([0, 1, 2, 3, 4]);
    } finally {
      await tab.close();
    }
  });
});

describe('SASL on the SASL_SSL listener', () => {
  it.each(['scram-sha-256', 'plain'])('the %s mechanism logs in too', async (mechanism) => {
    expect(await attempt({ ...saslEnv(), HERALD_KAFKA_SASL_MECHANISM: mechanism })).toBeUndefined();
  });

  it.each(['scram-sha-512', 'scram-sha-256', 'plain'])('a wrong password (%s) is refused, named as the credentials, never shown', async (mechanism) => {
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const line = await refusal({ ...saslEnv(), HERALD_KAFKA_SASL_MECHANISM: mechanism, HERALD_KAFKA_SASL_PASSWORD: wrong });
    expect(line).toBe(
      `Kafka at ${broker.saslBrokers} refused the SASL credentials of user "${broker.username}" (${mechanism}) (HERALD_KAFKA_SASL_USERNAME / HERALD_KAFKA_SASL_PASSWORD)`,
    );
    expect(line).not.toContain(wrong);
  });

  it('an unknown user is refused the same way', async () => {
    expect(await refusal({ ...saslEnv(), HERALD_KAFKA_SASL_USERNAME: 'nobody' })).toContain('refused the SASL credentials of user "nobody"');
  });

  it('no login at all: the broker hangs up, and the line says a SASL login may be what it wants', async () => {
    const line = await refusal({ ...saslEnv(), HERALD_KAFKA_SASL_MECHANISM: undefined, HERALD_KAFKA_SASL_USERNAME: undefined, HERALD_KAFKA_SASL_PASSWORD: undefined });
    expect(line).toBe(
      'Kafka closed the connection; its listener may require a SASL login (HERALD_KAFKA_SASL_MECHANISM) or a client certificate (HERALD_KAFKA_TLS_CERT_FILE / HERALD_KAFKA_TLS_KEY_FILE)',
    );
  });

  it('without TLS the SASL handshake meets a TLS listener, and the line says to turn TLS on', async () => {
    const line = await refusal({ ...saslEnv(), HERALD_KAFKA_TLS: undefined, HERALD_KAFKA_TLS_CA_FILE: undefined });
    expect(line).toBe(`Kafka at ${broker.saslBrokers} closed the connection during the SASL handshake; its listener may expect TLS (HERALD_KAFKA_TLS=true)`);
  });
});

describe('the broker’s certificate', () => {
  it('signed by an authority other than HERALD_KAFKA_TLS_CA_FILE’s is refused, naming that variable', async () => {
    const line = await refusal({ ...saslEnv(), HERALD_KAFKA_TLS_CA_FILE: stranger.ca });
    expect(line).toMatch(/^Kafka at 127\.0\.0\.1:\d+: its TLS certificate is not trusted \(.+\); the authority in HERALD_KAFKA_TLS_CA_FILE did not sign it/);
  });

  it('with no CA file, the system store does not trust the private authority; the line says to set one', async () => {
    const line = await refusal({ ...sslEnv(), HERALD_KAFKA_TLS_CA_FILE: undefined });
    expect(line).toContain('its TLS certificate is not trusted');
    expect(line).toContain('set HERALD_KAFKA_TLS_CA_FILE to the authority that signed it');
  });

  it('is checked against HERALD_KAFKA_TLS_SERVERNAME when set: a name it is issued for connects, another is refused', async () => {
    expect(await attempt({ ...saslEnv(), HERALD_KAFKA_TLS_SERVERNAME: 'kafka.herald.test' })).toBeUndefined();
    const line = await refusal({ ...saslEnv(), HERALD_KAFKA_TLS_SERVERNAME: 'elsewhere.herald.test' });
    expect(line).toContain('its TLS certificate is not issued for the name Herald checks');
    expect(line).toContain('elsewhere.herald.test');
    expect(line).toContain('(HERALD_KAFKA_TLS_SERVERNAME, HERALD_KAFKA_BROKERS)');
  });
});

describe('the SSL listener’s client certificates', () => {
  it('no client certificate: refused, and the line says one may be required', async () => {
    const line = await refusal({ ...sslEnv(), HERALD_KAFKA_TLS_CERT_FILE: undefined, HERALD_KAFKA_TLS_KEY_FILE: undefined });
    expect(line).toContain('a client certificate (HERALD_KAFKA_TLS_CERT_FILE / HERALD_KAFKA_TLS_KEY_FILE)');
  });

  it('a client certificate from an authority the broker does not trust is refused', async () => {
    const line = await refusal({ ...sslEnv(), HERALD_KAFKA_TLS_CERT_FILE: stranger.clientCert, HERALD_KAFKA_TLS_KEY_FILE: stranger.clientKey });
    expect(line).toBe(
      'Kafka closed the connection; its listener may require a SASL login (HERALD_KAFKA_SASL_MECHANISM), or not accept the client certificate (HERALD_KAFKA_TLS_CERT_FILE / HERALD_KAFKA_TLS_KEY_FILE)',
    );
  });
});

describe('other connection failures', () => {
  it('TLS against a plaintext listener: the line says the listener may be plaintext', async () => {
    const line = await refusal({ HERALD_KAFKA_BROKERS: kafkaBrokers().join(','), HERALD_KAFKA_TLS: 'true' });
    expect(line).toMatch(/does not speak TLS; the listener may be plaintext \(HERALD_KAFKA_TLS\)$/);
  });

  it('a SASL login against a listener without SASL: the line says it takes none', async () => {
    const brokers = kafkaBrokers().join(',');
    const line = await refusal({ HERALD_KAFKA_BROKERS: brokers, HERALD_KAFKA_SASL_MECHANISM: 'scram-sha-512', HERALD_KAFKA_SASL_USERNAME: 'u', HERALD_KAFKA_SASL_PASSWORD: 'p' });
    expect(line).toBe(`Kafka at ${kafkaBrokers()[0]} takes no SASL login on this listener (HERALD_KAFKA_SASL_MECHANISM)`);
  });

  it('a mechanism the listener does not offer: the line lists what it offers', () => {
    // The client's error for a handshake the broker answers with UNSUPPORTED_SASL_MECHANISM, as it nests it (the
    // test broker offers every mechanism Herald knows, so this one answer is written out).
    const answer = Object.assign(new Error('Received response with error while executing API SaslHandshake(v1)'), {
      code: 'PLT_KFK_RESPONSE',
      response: { errorCode: 33, mechanisms: ['SCRAM-SHA-512', 'PLAIN'] },
    });
    const failed = new Error('Connection to kafka-1:9093 failed.', { cause: new Error('Cannot find a suitable SASL mechanism.', { cause: answer }) });
    const error = new AggregateError([new AggregateError([failed], 'Cannot connect to any broker.')], 'Listing topics failed.');
    expect(explainKafkaFailure(error, kafkaConfig({ ...saslEnv(), HERALD_KAFKA_SASL_MECHANISM: 'scram-sha-256' }))).toBe(
      'Kafka at kafka-1:9093 does not accept the SASL mechanism scram-sha-256; it offers SCRAM-SHA-512, PLAIN (HERALD_KAFKA_SASL_MECHANISM)',
    );
  });

  it('nothing listening: the line names the address and HERALD_KAFKA_BROKERS', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    expect(await refusal({ HERALD_KAFKA_BROKERS: address, HERALD_KAFKA_TLS: 'true' })).toBe(`Kafka at ${address} refused the connection (HERALD_KAFKA_BROKERS)`);
  });

  it('an error that is not about connecting is not explained', () => {
    expect(explainKafkaFailure(new Error('something else'), kafkaConfig(saslEnv()))).toBeUndefined();
    expect(explainKafkaFailure('a string', kafkaConfig(saslEnv()))).toBeUndefined();
  });
});

describe('Herald’s logs with a secured cluster', () => {
  /** Starts Herald on the SASL_SSL listener with `password`, logging at debug into a string, until `until` holds. */
  async function logsOf(password: string, until: (log: string) => boolean): Promise<string> {
    let log = '';
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        log += chunk.toString();
        done();
      },
    });
    const topic = await createTopic(saslEnv());
    const dir = mkdtempSync(join(scratch, 'herald-'));
    const config = loadConfig({
      ...saslEnv(),
      HERALD_KAFKA_SASL_PASSWORD: password,
      HERALD_KAFKA_TOPIC: topic,
      HERALD_KAFKA_GROUP: `${topic}-group`,
      HERALD_DATA_DIR: dir,
      HERALD_HOST: '127.0.0.1',
      HERALD_PORT: '0',
      HERALD_JWT_SECRET: 'security-test-secret-long-enough-for-hs256',
      HERALD_API_KEY: 'security-test-api-key',
      HERALD_LOG_LEVEL: 'debug',
    });
    const created = Herald.create({ config, logger: createLogger('debug', sink) });
    let herald: Herald | undefined;
    try {
      herald = await created;
      await herald.listen();
      await waitUntil(() => until(log), 'the expected log lines', 30_000);
    } catch (error) {
      // A start-up that refuses the cluster is an outcome too: its message is what would be logged.
      if (herald === undefined) log += `\n${String((error as Error).message)}`;
      else throw error;
    } finally {
      await herald?.close();
    }
    return log;
  }

  it('hold neither the password nor a wrong one, whether the login works or fails', async () => {
    const good = await logsOf(broker.password, (log) => log.includes('consuming from kafka'));
    expect(good).not.toContain(broker.password);
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    // Herald either stops at start-up, refusing the cluster, or keeps retrying with warnings: either is checked.
    const bad = await logsOf(wrong, (log) => log.includes('kafka consumption failed'));
    expect(bad).toMatch(/kafka/i);
    expect(bad).not.toContain(wrong);
    expect(bad).not.toContain(broker.password);
  }, 90_000);
});

/** A secret as text and in the encodings a log could carry it in (base64 without its tail, hex). */
function forms(secret: string): string[] {
  const bytes = Buffer.from(secret);
  return [secret, bytes.toString('base64').slice(0, -4), bytes.toString('hex')];
}

// `herald start` as an operator runs it (the built dist/), at debug level, so that every line it could print is
// printed. These share the broker above: a broker of their own would cost another JVM start.
describe('herald start against the secured cluster', () => {
  const processEnv = (extra: Record<string, string>): NodeJS.ProcessEnv =>
    cleanEnv({
      HERALD_HOST: '127.0.0.1',
      HERALD_PORT: '0',
      HERALD_JWT_SECRET: 'security-test-secret-long-enough-for-hs256',
      HERALD_API_KEY: 'security-test-api-key',
      HERALD_LOG_LEVEL: 'debug',
      ...extra,
    });

  async function failedStart(env: Record<string, string>): Promise<{ line: string; output: string }> {
    const dir = mkdtempSync(join(scratch, 'herald-start-'));
    const topic = await createTopic(saslEnv());
    const result = await runHerald(['start'], {
      cwd: dir,
      env: processEnv({ HERALD_DATA_DIR: join(dir, 'data'), HERALD_KAFKA_TOPIC: topic, ...env }),
      timeoutMs: 30_000,
    });
    expect(result.code, result.stdout + result.stderr).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines, result.stderr).toHaveLength(1);
    return { line: lines[0]!, output: result.stdout + result.stderr };
  }

  it('a wrong password stops start-up with one line naming the credentials; no password anywhere in the output', async () => {
    const wrong = `wrong-${randomBytes(8).toString('hex')}`;
    const { line, output } = await failedStart({ ...saslEnv(), HERALD_KAFKA_SASL_PASSWORD: wrong });
    expect(line).toBe(
      `Herald could not start: Kafka at ${broker.saslBrokers} refused the SASL credentials of user "${broker.username}" (scram-sha-512) (HERALD_KAFKA_SASL_USERNAME / HERALD_KAFKA_SASL_PASSWORD)`,
    );
    for (const secret of [wrong, broker.password]) for (const form of forms(secret)) expect(output).not.toContain(form);
  });

  it('a broker certificate from an authority Herald does not trust stops start-up with one line naming HERALD_KAFKA_TLS_CA_FILE', async () => {
    const { line, output } = await failedStart({ ...saslEnv(), HERALD_KAFKA_TLS_CA_FILE: stranger.ca });
    expect(line).toMatch(/^Herald could not start: Kafka at 127\.0\.0\.1:\d+: its TLS certificate is not trusted \(.+\); the authority in HERALD_KAFKA_TLS_CA_FILE did not sign it$/);
    for (const form of forms(broker.password)) expect(output).not.toContain(form);
  });

  it('a client certificate the SSL listener does not accept stops start-up with one line naming the certificate files', async () => {
    const { line } = await failedStart({ ...sslEnv(), HERALD_KAFKA_TLS_CERT_FILE: stranger.clientCert, HERALD_KAFKA_TLS_KEY_FILE: stranger.clientKey });
    expect(line).toMatch(/^Herald could not start: Kafka .*not accept the client certificate \(HERALD_KAFKA_TLS_CERT_FILE \/ HERALD_KAFKA_TLS_KEY_FILE\)$/);
  });

  it('a missing CA file stops start-up with one line naming the variable and the path', async () => {
    const missing = join(scratch, 'no-such-ca.pem');
    const { line } = await failedStart({ ...saslEnv(), HERALD_KAFKA_TLS_CA_FILE: missing });
    expect(line).toBe(`Invalid configuration: HERALD_KAFKA_TLS_CA_FILE (${missing}) does not exist`);
  });

  it('with the right password it consumes, and nothing it logs at debug level holds the password', async () => {
    const dir = mkdtempSync(join(scratch, 'herald-start-'));
    const topic = await createTopic(saslEnv());
    const { child } = await startHerald(dir, { ...(processEnv({}) as Record<string, string>), ...saslEnv(), HERALD_KAFKA_TOPIC: topic }, 30_000);
    try {
      await child.waitForLog((entry) => entry['msg'] === 'consuming from kafka', 30_000);
    } finally {
      child.kill('SIGTERM');
      await child.exited;
    }
    for (const form of forms(broker.password)) expect(child.output).not.toContain(form);
  }, 60_000);
});
