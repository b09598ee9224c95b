import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);
const scripts = new URL('../../../../scripts/', import.meta.url).pathname;

/** The files scripts/kafka/make-certs.sh writes into a directory. */
export interface Certificates {
  dir: string;
  /** The authority's certificate: what a client trusts to talk to the broker. */
  ca: string;
  clientCert: string;
  clientKey: string;
}

export function certificatesIn(dir: string): Certificates {
  return { dir, ca: join(dir, 'ca.crt'), clientCert: join(dir, 'client.crt'), clientKey: join(dir, 'client.key') };
}

/** A new authority with a client certificate of its own, made with openssl: one that no test broker trusts. */
export async function makeCertificates(dir: string): Promise<Certificates> {
  await run(join(scripts, 'kafka/make-certs.sh'), [dir]);
  return certificatesIn(dir);
}

export interface SecuredBroker {
  /** host:port of the SASL_SSL listener (SCRAM-SHA-512, SCRAM-SHA-256 and PLAIN). */
  saslBrokers: string;
  /** host:port of the SSL listener, which requires a client certificate signed by `certificates.ca`. */
  sslBrokers: string;
  /** The authority the broker's certificate is signed by, and a client certificate it accepts. */
  certificates: Certificates;
  username: string;
  /** Random per broker, so a test can search any output for it. */
  password: string;
  stop(): Promise<void>;
}

/**
 * A real single-node Kafka broker with only TLS listeners (scripts/kafka.sh, KAFKA_SECURITY=secured) on free ports,
 * in a directory of its own: its authority and certificates are made now with openssl, and the SCRAM credentials
 * of a user with a random password are added when its storage is formatted. stop() stops it and deletes it all.
 */
export async function startSecuredBroker(): Promise<SecuredBroker> {
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(await freePort());
  const [port, controllerPort, sslPort] = [...ports] as [number, number, number];
  const dir = mkdtempSync(join(tmpdir(), 'herald-kafka-secured-'));
  const username = 'herald-test';
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const env = {
    ...process.env,
    KAFKA_SECURITY: 'secured',
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_SSL_PORT: String(sslPort),
    KAFKA_DATA_DIR: join(dir, 'data'),
    KAFKA_TLS_DIR: join(dir, 'tls'),
    KAFKA_SASL_USERNAME: username,
    KAFKA_SASL_PASSWORD: password,
    // If the test process dies without its teardown, the script stops the broker anyway.
    KAFKA_STOP_WITH_PID: String(process.pid),
  };
  const script = join(scripts, 'kafka.sh');
  let stdout: string;
  try {
    ({ stdout } = await run(script, ['start'], { env, timeout: 10 * 60_000 }));
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`scripts/kafka.sh start (secured) failed\n${(error as { stderr?: string }).stderr ?? ''}`, { cause: error });
  }
  const stop = async (): Promise<void> => {
    try {
      await run(script, ['stop'], { env });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const line = (name: string): string => {
    const value = new RegExp(`^${name}=(\\S+)$`, 'm').exec(stdout)?.[1];
    if (value === undefined) throw new Error(`scripts/kafka.sh start printed no ${name} line: ${stdout}`);
    return value;
  };
  try {
    const addresses = { saslBrokers: line('KAFKA_BROKERS'), sslBrokers: line('KAFKA_SSL_BROKERS'), tlsDir: line('KAFKA_TLS_DIR') };
    return { ...addresses, certificates: certificatesIn(addresses.tlsDir), username, password, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
