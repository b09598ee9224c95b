import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { SASLOptions } from '@platformatic/kafka';
import { ConfigError, TLS_VARIABLES, type KafkaConfig, type KafkaTls } from '../config.js';

/**
 * What every Kafka client Herald opens (the consumer, the dead-letter producer, the admin that checks topics)
 * is given to reach the cluster: the bootstrap brokers, and the security settings when the cluster asks for them.
 * One place, so that no client can connect with less than the others.
 */
export interface KafkaConnection {
  bootstrapBrokers: string[];
  sasl?: SASLOptions;
  tls?: TlsOptions;
  /** The name the broker's certificate is checked against (and sent as SNI), instead of the broker's host. */
  tlsServerName?: string;
}

const SASL_MECHANISMS = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const;

/**
 * The connection options for `config`. The TLS files are read and checked here, when the clients are made at
 * start-up: a missing, unreadable or malformed file, or a key that is not the certificate's, is a ConfigError
 * naming its variable, not a handshake that fails later for a reason the broker does not say.
 */
export function kafkaConnection(config: KafkaConfig): KafkaConnection {
  const connection: KafkaConnection = { bootstrapBrokers: config.brokers };
  if (config.sasl) {
    const { password } = config.sasl;
    connection.sasl = {
      mechanism: SASL_MECHANISMS[config.sasl.mechanism],
      username: config.sasl.username,
      // A provider rather than the string: the options object, wherever a client keeps or shows it, holds no secret.
      password: () => password,
    };
  }
  if (config.tls) {
    connection.tls = tlsOptions(config.tls);
    if (config.tls.servername !== undefined) connection.tlsServerName = config.tls.servername;
  }
  return connection;
}

function tlsOptions(tls: KafkaTls): TlsOptions {
  const options: TlsOptions = {};
  // Given a CA, Node trusts it instead of the system's store: a private cluster's authority, and only it.
  if (tls.caFile !== undefined) options.ca = readCertificates(tls.caFile, TLS_VARIABLES.caFile).pem;
  if (tls.certFile !== undefined && tls.keyFile !== undefined) {
    const { pem: cert, first } = readCertificates(tls.certFile, TLS_VARIABLES.certFile);
    const { pem: key, object } = readPrivateKey(tls.keyFile);
    if (!first.checkPrivateKey(object)) {
      throw new ConfigError(
        `Invalid configuration: ${TLS_VARIABLES.keyFile} (${tls.keyFile}) is not the private key of the certificate in ${TLS_VARIABLES.certFile} (${tls.certFile})`,
      );
    }
    options.cert = cert;
    options.key = key;
  }
  return options;
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** The file's PEM text, which must hold one certificate or more, each of them valid X.509. */
function readCertificates(path: string, variable: string): { pem: string; first: X509Certificate } {
  const pem = readPem(path, variable);
  const blocks = pem.match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) throw new ConfigError(`Invalid configuration: ${variable} (${path}) holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  const certificates = blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new ConfigError(`Invalid configuration: ${variable} (${path}) holds a certificate that cannot be read (number ${index + 1} in the file)`);
    }
  });
  return { pem, first: certificates[0]! };
}

function readPrivateKey(path: string): { pem: string; object: KeyObject } {
  const variable = TLS_VARIABLES.keyFile;
  const pem = readPem(path, variable);
  // PKCS#8 and the older OpenSSL form mark an encrypted key in the PEM text; without a passphrase it cannot be used.
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem)) {
    throw new ConfigError(`Invalid configuration: ${variable} (${path}) holds an encrypted private key; Herald reads an unencrypted PEM key`);
  }
  try {
    return { pem, object: createPrivateKey({ key: pem, format: 'pem' }) };
  } catch {
    throw new ConfigError(`Invalid configuration: ${variable} (${path}) holds no PEM private key (-----BEGIN PRIVATE KEY-----)`);
  }
}

function readPem(path: string, variable: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    // The code says why (EACCES, ENOTDIR, EIO...); the two an operator meets most are said in words.
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? 'unknown error'})`;
    throw new ConfigError(`Invalid configuration: ${variable} (${path}) ${why}`);
  }
}

/** One error in a Kafka client's error tree (MultipleErrors hold `errors`, wrappers a `cause`), with the broker it is about. */
interface Found {
  error: { code?: unknown; apiId?: unknown; message?: unknown; response?: { mechanisms?: unknown } };
  /** host:port from the nearest "Connection to host:port failed." above it. */
  address?: string;
}

/**
 * One line that says why connecting to Kafka failed and which variables to check, for an error from a client's
 * first requests; undefined when the error is not one of the known connection failures. It never holds the
 * password: it is made of the error's codes and addresses and the configured names, never of the secret.
 */
export function explainKafkaFailure(error: unknown, config: KafkaConfig): string | undefined {
  const found = flatten(error);
  const at = (item: Found | undefined): string => (item?.address ? ` at ${item.address}` : '');
  const has = (test: (item: Found) => boolean): Found | undefined => found.find(test);
  const code = (item: Found): string => String(item.error.code ?? '');
  const message = (item: Found): string => String(item.error.message ?? '');

  const refusedLogin = has((item) => item.error.apiId === 'SASL_AUTHENTICATION_FAILED' || message(item) === 'SASL authentication failed.');
  if (refusedLogin) {
    const user = config.sasl ? ` of user "${config.sasl.username}" (${config.sasl.mechanism})` : '';
    return `Kafka${at(refusedLogin)} refused the SASL credentials${user} (HERALD_KAFKA_SASL_USERNAME / HERALD_KAFKA_SASL_PASSWORD)`;
  }
  // The broker's answer to the SASL handshake lists what the listener accepts: nothing, or not this mechanism.
  const handshake = found.find((item) => Array.isArray(item.error.response?.mechanisms));
  if (handshake) {
    const offered = handshake.error.response!.mechanisms as unknown[];
    if (offered.length === 0) return `Kafka${at(handshake)} takes no SASL login on this listener (HERALD_KAFKA_SASL_MECHANISM)`;
    const wanted = config.sasl?.mechanism ?? 'Herald asked for';
    return `Kafka${at(handshake)} does not accept the SASL mechanism ${wanted}; it offers ${offered.join(', ')} (HERALD_KAFKA_SASL_MECHANISM)`;
  }
  const tlsProblem = found.map((item) => ({ item, text: explainTls(code(item), message(item), config) })).find(({ text }) => text !== undefined);
  if (tlsProblem) return `Kafka${at(tlsProblem.item)}: ${tlsProblem.text}`;
  if (has((item) => message(item) === 'Broker requires TLS.') || has((item) => message(item).startsWith('TLS handshake failed'))) {
    const wants = config.tls ? 'does not speak TLS; the listener may be plaintext' : 'expects TLS';
    return `Kafka${at(found.find((item) => item.address))} ${wants} (HERALD_KAFKA_TLS)`;
  }
  const handshakeCut = has((item) => message(item) === 'Cannot find a suitable SASL mechanism.');
  if (handshakeCut && !config.tls) {
    return `Kafka${at(handshakeCut)} closed the connection during the SASL handshake; its listener may expect TLS (HERALD_KAFKA_TLS=true)`;
  }
  const network = has((item) => ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code(item)));
  if (network) {
    const what = { ECONNREFUSED: 'refused the connection', ENOTFOUND: 'has a host name that does not resolve', EAI_AGAIN: 'has a host name that does not resolve (yet)' }[
      code(network) as 'ECONNREFUSED'
    ];
    return `Kafka${at(network)} ${what ?? `cannot be reached (${code(network)})`} (HERALD_KAFKA_BROKERS)`;
  }
  const timeout = has((item) => code(item) === 'PLT_KFK_TIMEOUT' && /^Connection to .* timed out/.test(message(item)));
  if (timeout) return `Kafka did not answer: ${message(timeout)} (HERALD_KAFKA_BROKERS)`;
  const closed = has((item) => message(item) === 'Connection closed');
  if (closed) {
    // The broker hung up without a word: what it asks for and Herald did not give, or a client certificate it
    // does not accept, is the likely cause.
    const missing = [
      !config.tls && 'TLS (HERALD_KAFKA_TLS)',
      !config.sasl && 'a SASL login (HERALD_KAFKA_SASL_MECHANISM)',
      !config.tls?.certFile && 'a client certificate (HERALD_KAFKA_TLS_CERT_FILE / HERALD_KAFKA_TLS_KEY_FILE)',
    ].filter(Boolean);
    const causes = [
      missing.length > 0 && `require ${missing.join(' or ')}`,
      config.tls?.certFile && 'not accept the client certificate (HERALD_KAFKA_TLS_CERT_FILE / HERALD_KAFKA_TLS_KEY_FILE)',
    ].filter(Boolean);
    const hint = causes.length > 0 ? `; its listener may ${causes.join(', or ')}` : '; check its listener and the security settings (HERALD_KAFKA_*)';
    return `Kafka${at(found.find((item) => item.address))} closed the connection${hint}`;
  }
  return undefined;
}

/** Node's codes for a broker certificate that no trusted authority signed. */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

function explainTls(code: string, message: string, config: KafkaConfig): string | undefined {
  if (UNTRUSTED.has(code)) {
    const trust = config.tls?.caFile ? 'the authority in HERALD_KAFKA_TLS_CA_FILE did not sign it' : 'set HERALD_KAFKA_TLS_CA_FILE to the authority that signed it';
    return `its TLS certificate is not trusted (${message}); ${trust}`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    // Node's message names the host checked and the names in the certificate, which is what one needs to fix it.
    return `its TLS certificate is not issued for the name Herald checks (${message}) (HERALD_KAFKA_TLS_SERVERNAME, HERALD_KAFKA_BROKERS)`;
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return `its TLS certificate is not valid now (${message})`;
  // An alert from the broker about the certificate Herald sent (or did not send).
  if (/^ERR_SSL_(TLSV13_ALERT_CERTIFICATE_REQUIRED|SSLV3_ALERT_BAD_CERTIFICATE|TLSV1_ALERT_UNKNOWN_CA|SSLV3_ALERT_CERTIFICATE_UNKNOWN|TLSV1_ALERT_ACCESS_DENIED)$/.test(code)) {
    return `it refused Herald's client certificate (${message.trim()}) (HERALD_KAFKA_TLS_CERT_FILE / HERALD_KAFKA_TLS_KEY_FILE)`;
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') return 'it does not speak TLS; the listener may be plaintext (HERALD_KAFKA_TLS)';
  return undefined;
}

/** Every error in the tree, depth first, each with the broker address of the nearest connection failure above it. */
function flatten(error: unknown, address?: string, into: Found[] = [], depth = 0): Found[] {
  if (error === null || typeof error !== 'object' || depth > 16) return into;
  const node = error as Found['error'] & { errors?: unknown; cause?: unknown };
  const here = /^Connection to (\S+) (?:failed|timed out)/.exec(String(node.message ?? ''))?.[1] ?? address;
  into.push({ error: node, address: here });
  if (Array.isArray(node.errors)) for (const child of node.errors) flatten(child, here, into, depth + 1);
  flatten(node.cause, here, into, depth + 1);
  return into;
}
