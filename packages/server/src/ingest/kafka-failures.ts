import { ErrorCode } from '@herald/protocol';
import { HeraldError } from '../errors.js';

/** Error codes in a Kafka client's failure that mean "the cluster cannot be reached now", which may pass. */
const UNREACHABLE_CODES = new Set([
  'PLT_KFK_NETWORK',
  'PLT_KFK_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
  // An unknown host is often a name that a cluster's DNS does not serve yet (a broker still starting).
  'ENOTFOUND',
]);

/**
 * Codes that mean the cluster answered and refused: credentials, a certificate, a permission. Waiting does not
 * change them, so they win over a network code found beside them (a TLS failure comes wrapped in a network error).
 */
const REFUSED_CODES = new Set([
  'PLT_KFK_AUTHENTICATION',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

function codesOf(error: unknown, found = new Set<string>(), depth = 0): Set<string> {
  if (!(error instanceof Error) || depth > 8) return found;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') found.add(code);
  if (error instanceof AggregateError) for (const inner of error.errors) codesOf(inner, found, depth + 1);
  codesOf(error.cause, found, depth + 1);
  return found;
}

/** Whether a Kafka client failed because the cluster is out of reach (retry later), not because it refused. */
export function isKafkaUnreachable(error: unknown): boolean {
  const codes = codesOf(error);
  for (const code of codes) if (REFUSED_CODES.has(code)) return false;
  for (const code of codes) if (UNREACHABLE_CODES.has(code)) return true;
  return false;
}

/**
 * Whether storing failed for a reason that passes (the database is unreachable: the store's outage guard turns
 * that into an Unavailable HeraldError). Anything else is the database refusing what it was given, which no
 * retry changes.
 */
export function isTransientStoreFailure(error: unknown): boolean {
  return error instanceof HeraldError && error.code === ErrorCode.Unavailable;
}

/** One line for a log or a dead-letter header: the message, without a stack. */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, ' ').trim().slice(0, 500);
}
