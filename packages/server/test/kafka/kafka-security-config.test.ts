import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type KafkaConfig } from '../../src/config.js';
import { kafkaConnection } from '../../src/ingest/kafka-connection.js';
import { makeCertificates, type Certificates } from '../helpers/kafka-secure.js';

const PASSWORD = 'config-test-password-7f3a';
const BASE = { HERALD_KAFKA_BROKERS: '127.0.0.1:9092' };
const SCRAM = { HERALD_KAFKA_SASL_MECHANISM: 'scram-sha-512', HERALD_KAFKA_SASL_USERNAME: 'herald', HERALD_KAFKA_SASL_PASSWORD: PASSWORD };

function kafkaOf(env: Record<string, string>): KafkaConfig {
  return loadConfig({ ...BASE, ...env }).kafka!;
}

/** The ConfigError that loading `env` throws (fails the test if it loads). */
function refusal(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toContain(PASSWORD);
    // One line: start-up prints it as it is.
    expect((error as Error).message).not.toContain('\n');
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('HERALD_KAFKA_SASL_* in the configuration', () => {
  it('all three make a login, the mechanism as configured', () => {
    expect(kafkaOf(SCRAM).sasl).toEqual({ mechanism: 'scram-sha-512', username: 'herald', password: PASSWORD });
    expect(kafkaOf({ ...SCRAM, HERALD_KAFKA_SASL_MECHANISM: 'plain' }).sasl?.mechanism).toBe('plain');
    expect(kafkaOf({ ...SCRAM, HERALD_KAFKA_SASL_MECHANISM: 'scram-sha-256' }).sasl?.mechanism).toBe('scram-sha-256');
    expect(kafkaOf({}).sasl).toBeUndefined();
  });

  it.each(['gssapi', 'oauthbearer', 'SCRAM-SHA-512', 'scram-sha-1', 'scram', ' plain'])('refuses the mechanism %j, listing the accepted ones', (mechanism) => {
    const { message } = refusal(() => kafkaOf({ ...SCRAM, HERALD_KAFKA_SASL_MECHANISM: mechanism }));
    expect(message).toContain('HERALD_KAFKA_SASL_MECHANISM');
    expect(message).toContain('plain, scram-sha-256, scram-sha-512');
  });

  it.each([
    ['HERALD_KAFKA_SASL_USERNAME', { HERALD_KAFKA_SASL_MECHANISM: 'plain', HERALD_KAFKA_SASL_PASSWORD: PASSWORD }],
    ['HERALD_KAFKA_SASL_PASSWORD', { HERALD_KAFKA_SASL_MECHANISM: 'scram-sha-256', HERALD_KAFKA_SASL_USERNAME: 'herald' }],
    ['HERALD_KAFKA_SASL_USERNAME', { HERALD_KAFKA_SASL_MECHANISM: 'scram-sha-512' }],
    ['HERALD_KAFKA_SASL_PASSWORD', { ...SCRAM, HERALD_KAFKA_SASL_PASSWORD: '' }],
  ])('a mechanism without %s is refused, naming it', (missing, env) => {
    expect(refusal(() => kafkaOf(env)).message).toMatch(new RegExp(`HERALD_KAFKA_SASL_MECHANISM .*needs ${missing}$`));
  });

  it.each([
    ['HERALD_KAFKA_SASL_PASSWORD', { HERALD_KAFKA_SASL_PASSWORD: PASSWORD }],
    ['HERALD_KAFKA_SASL_USERNAME', { HERALD_KAFKA_SASL_USERNAME: 'herald' }],
    ['HERALD_KAFKA_SASL_USERNAME', { HERALD_KAFKA_SASL_USERNAME: 'herald', HERALD_KAFKA_SASL_PASSWORD: PASSWORD }],
  ])('%s without a mechanism is refused, naming HERALD_KAFKA_SASL_MECHANISM', (stray, env) => {
    expect(refusal(() => kafkaOf(env)).message).toMatch(new RegExp(`^Invalid configuration: ${stray} is set but HERALD_KAFKA_SASL_MECHANISM is not`));
  });
});

describe('HERALD_KAFKA_TLS* in the configuration', () => {
  it('TLS is off by default and on with HERALD_KAFKA_TLS=true, trusting the system store unless a CA is given', () => {
    expect(kafkaOf({}).tls).toBeUndefined();
    expect(kafkaOf({ HERALD_KAFKA_TLS: 'false' }).tls).toBeUndefined();
    expect(kafkaOf({ HERALD_KAFKA_TLS: 'true' }).tls).toEqual({});
    expect(kafkaConnection(kafkaOf({ HERALD_KAFKA_TLS: 'true' })).tls).toEqual({});
    expect(kafkaOf({ HERALD_KAFKA_TLS: 'true', HERALD_KAFKA_TLS_SERVERNAME: 'kafka.example.com' }).tls?.servername).toBe('kafka.example.com');
  });

  it.each(['yes', '1', 'TRUE', 'on', 'tru'])('HERALD_KAFKA_TLS=%j is refused: it is true or false', (value) => {
    const { message } = refusal(() => kafkaOf({ HERALD_KAFKA_TLS: value }));
    expect(message).toContain('HERALD_KAFKA_TLS');
    expect(message).toContain('true, false');
  });

  it.each([
    ['HERALD_KAFKA_TLS_CA_FILE', { HERALD_KAFKA_TLS_CA_FILE: '/etc/ca.pem' }],
    ['HERALD_KAFKA_TLS_CERT_FILE', { HERALD_KAFKA_TLS_CERT_FILE: '/etc/c.pem', HERALD_KAFKA_TLS_KEY_FILE: '/etc/k.pem' }],
    ['HERALD_KAFKA_TLS_KEY_FILE', { HERALD_KAFKA_TLS: 'false', HERALD_KAFKA_TLS_KEY_FILE: '/etc/k.pem' }],
    ['HERALD_KAFKA_TLS_SERVERNAME', { HERALD_KAFKA_TLS_SERVERNAME: 'kafka.example.com' }],
  ])('%s without HERALD_KAFKA_TLS=true is refused rather than ignored', (stray, env) => {
    expect(refusal(() => kafkaOf(env)).message).toBe(
      `Invalid configuration: ${stray} is set but HERALD_KAFKA_TLS is not true; set HERALD_KAFKA_TLS=true to connect over TLS`,
    );
  });

  it.each([
    ['HERALD_KAFKA_TLS_CERT_FILE', 'HERALD_KAFKA_TLS_KEY_FILE'],
    ['HERALD_KAFKA_TLS_KEY_FILE', 'HERALD_KAFKA_TLS_CERT_FILE'],
  ])('%s without %s is refused', (set, missing) => {
    expect(refusal(() => kafkaOf({ HERALD_KAFKA_TLS: 'true', [set]: '/etc/file.pem' })).message).toBe(
      `Invalid configuration: ${set} needs ${missing}; a client certificate is given as both files`,
    );
  });

  it.each(['kafka example.com', '-kafka.example.com', 'kafka.example.com.', 'kafka_1.example.com', 'https://kafka.example.com'])(
    'HERALD_KAFKA_TLS_SERVERNAME=%j is refused: it is a DNS name',
    (name) => {
      expect(refusal(() => kafkaOf({ HERALD_KAFKA_TLS: 'true', HERALD_KAFKA_TLS_SERVERNAME: name })).message).toContain('HERALD_KAFKA_TLS_SERVERNAME');
    },
  );
});

describe('kafkaConnection reads the TLS files', () => {
  let dir: string;
  let certs: Certificates;
  let other: Certificates;
  const file = (name: string, content: string | Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const withTls = (env: Record<string, string>): KafkaConfig => kafkaOf({ HERALD_KAFKA_TLS: 'true', ...env });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-kafka-tls-config-'));
    certs = await makeCertificates(join(dir, 'ours'));
    other = await makeCertificates(join(dir, 'other'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives every client the CA, the client certificate and key, the server name and the SASL login', () => {
    const connection = kafkaConnection(
      withTls({
        ...SCRAM,
        HERALD_KAFKA_TLS_CA_FILE: certs.ca,
        HERALD_KAFKA_TLS_CERT_FILE: certs.clientCert,
        HERALD_KAFKA_TLS_KEY_FILE: certs.clientKey,
        HERALD_KAFKA_TLS_SERVERNAME: 'kafka.herald.test',
      }),
    );
    expect(connection.bootstrapBrokers).toEqual(['127.0.0.1:9092']);
    expect(connection.tls).toEqual({ ca: readFileSync(certs.ca, 'utf8'), cert: readFileSync(certs.clientCert, 'utf8'), key: readFileSync(certs.clientKey, 'utf8') });
    expect(connection.tlsServerName).toBe('kafka.herald.test');
    expect(connection.sasl?.mechanism).toBe('SCRAM-SHA-512');
    expect(connection.sasl?.username).toBe('herald');
    expect(typeof connection.sasl?.password === 'function' && connection.sasl.password()).toBe(PASSWORD);
    // Whatever prints the options (a debug log, an error that carries them) prints no secret.
    expect(JSON.stringify(connection)).not.toContain(PASSWORD);
    expect(kafkaConnection(withTls({ HERALD_KAFKA_SASL_MECHANISM: 'plain', HERALD_KAFKA_SASL_USERNAME: 'u', HERALD_KAFKA_SASL_PASSWORD: 'p' })).sasl?.mechanism).toBe('PLAIN');
  });

  it('accepts a CA file that holds several authorities', () => {
    const bundle = file('bundle.pem', readFileSync(certs.ca, 'utf8') + readFileSync(other.ca, 'utf8'));
    expect(kafkaConnection(withTls({ HERALD_KAFKA_TLS_CA_FILE: bundle })).tls?.ca).toContain(readFileSync(other.ca, 'utf8'));
  });

  const bad = (variable: string, env: Record<string, string>): string => {
    const { message } = refusal(() => kafkaConnection(withTls(env)));
    expect(message).toContain(variable);
    return message;
  };

  it.each(['HERALD_KAFKA_TLS_CA_FILE', 'HERALD_KAFKA_TLS_CERT_FILE', 'HERALD_KAFKA_TLS_KEY_FILE'])('a missing %s is named, with its path', (variable) => {
    const missing = join(dir, 'nowhere', 'missing.pem');
    const env = { HERALD_KAFKA_TLS_CERT_FILE: certs.clientCert, HERALD_KAFKA_TLS_KEY_FILE: certs.clientKey, [variable]: missing };
    expect(bad(variable, env)).toBe(`Invalid configuration: ${variable} (${missing}) does not exist`);
  });

  it('a directory where a file belongs is named', () => {
    const folder = join(dir, 'a-folder');
    mkdirSync(folder, { recursive: true });
    expect(bad('HERALD_KAFKA_TLS_CA_FILE', { HERALD_KAFKA_TLS_CA_FILE: folder })).toBe(`Invalid configuration: HERALD_KAFKA_TLS_CA_FILE (${folder}) is a directory`);
  });

  it('a file that cannot be read is named, with the reason', () => {
    // A path through a regular file: unreadable for every user, root included (a mode of 000 is not, for root).
    const through = join(file('plain-file', 'x'), 'ca.pem');
    expect(bad('HERALD_KAFKA_TLS_CA_FILE', { HERALD_KAFKA_TLS_CA_FILE: through })).toBe(`Invalid configuration: HERALD_KAFKA_TLS_CA_FILE (${through}) cannot be read (ENOTDIR)`);
  });

  it.each([
    ['text', 'not a certificate\n'],
    ['an empty file', ''],
    ['a private key', () => readFileSync(certs.clientKey, 'utf8')],
    ['DER bytes', () => execFileSync('openssl', ['x509', '-in', certs.ca, '-outform', 'DER'])],
  ])('a CA or certificate file that holds %s is refused as holding no PEM certificate', (_, content) => {
    const path = file('not-a-cert.pem', typeof content === 'function' ? content() : content);
    expect(bad('HERALD_KAFKA_TLS_CA_FILE', { HERALD_KAFKA_TLS_CA_FILE: path })).toBe(
      `Invalid configuration: HERALD_KAFKA_TLS_CA_FILE (${path}) holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
    expect(bad('HERALD_KAFKA_TLS_CERT_FILE', { HERALD_KAFKA_TLS_CERT_FILE: path, HERALD_KAFKA_TLS_KEY_FILE: certs.clientKey })).toContain('holds no PEM certificate');
  });

  it('a PEM certificate block whose content is not a certificate is refused', () => {
    const path = file('garbage.pem', `${readFileSync(certs.ca, 'utf8')}-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n`);
    expect(bad('HERALD_KAFKA_TLS_CA_FILE', { HERALD_KAFKA_TLS_CA_FILE: path })).toBe(
      `Invalid configuration: HERALD_KAFKA_TLS_CA_FILE (${path}) holds a certificate that cannot be read (number 2 in the file)`,
    );
  });

  it.each([
    ['text', 'not a key\n'],
    ['a certificate', () => readFileSync(certs.clientCert, 'utf8')],
    ['a truncated key', () => readFileSync(certs.clientKey, 'utf8').slice(0, 200) + '\n-----END PRIVATE KEY-----\n'],
  ])('a key file that holds %s is refused', (_, content) => {
    const path = file('not-a-key.pem', typeof content === 'function' ? content() : content);
    expect(bad('HERALD_KAFKA_TLS_KEY_FILE', { HERALD_KAFKA_TLS_CERT_FILE: certs.clientCert, HERALD_KAFKA_TLS_KEY_FILE: path })).toBe(
      `Invalid configuration: HERALD_KAFKA_TLS_KEY_FILE (${path}) holds no PEM private key (-----BEGIN PRIVATE KEY-----)`,
    );
  });

  it.each([
    ['PKCS#8', ['pkcs8', '-topk8', '-passout', 'pass:hunter2-key']],
    ['traditional OpenSSL', ['rsa', '-aes256', '-traditional', '-passout', 'pass:hunter2-key']],
  ])('an encrypted key (%s) is refused as such', (_, args) => {
    const path = join(dir, 'encrypted.key');
    execFileSync('openssl', [...args, '-in', certs.clientKey, '-out', path], { stdio: 'ignore' });
    const message = bad('HERALD_KAFKA_TLS_KEY_FILE', { HERALD_KAFKA_TLS_CERT_FILE: certs.clientCert, HERALD_KAFKA_TLS_KEY_FILE: path });
    expect(message).toBe(`Invalid configuration: HERALD_KAFKA_TLS_KEY_FILE (${path}) holds an encrypted private key; Herald reads an unencrypted PEM key`);
  });

  it('a key that is not the certificate’s is refused, naming both files', () => {
    const message = bad('HERALD_KAFKA_TLS_KEY_FILE', { HERALD_KAFKA_TLS_CERT_FILE: certs.clientCert, HERALD_KAFKA_TLS_KEY_FILE: other.clientKey });
    expect(message).toBe(
      `Invalid configuration: HERALD_KAFKA_TLS_KEY_FILE (${other.clientKey}) is not the private key of the certificate in HERALD_KAFKA_TLS_CERT_FILE (${certs.clientCert})`,
    );
  });
});
