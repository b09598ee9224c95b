import { StartupError } from '../errors.js';
import { redactSecretsInText } from '../logger.js';
import { isStoreUnavailable } from './unavailable.js';

/** Errors that say the database's host could not be found or reached, besides those isStoreUnavailable knows. */
const UNREACHABLE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/** PostgreSQL refusing the login or the database (SQLSTATE class 28, and 3D000 "database does not exist"). */
const REFUSED_CODES = new Set(['28000', '28P01', '3D000']);

/**
 * The StartupError naming HERALD_DATABASE_URL for a first contact with the configured database that failed for a
 * reason of that URL (its host is unknown or does not answer, the login or database is refused), with the
 * driver's message stripped of any password; undefined for any other failure (a migration's), which is the store's.
 */
export function databaseStartupError(error: unknown): StartupError | undefined {
  const codes = causes(error).map((cause) => (cause as { code?: unknown }).code);
  const driver = causes(error).at(-1);
  const reason = redactSecretsInText(messageOf(driver));
  if (codes.some((code) => typeof code === 'string' && REFUSED_CODES.has(code))) {
    return new StartupError(`HERALD_DATABASE_URL: the database refused the connection (${reason})`, { cause: error });
  }
  if (isStoreUnavailable(error) || codes.some((code) => typeof code === 'string' && UNREACHABLE_CODES.has(code))) {
    return new StartupError(`HERALD_DATABASE_URL: the database did not answer (${reason})`, { cause: error });
  }
  return undefined;
}

/** `error` and its causes, outermost first (guardOutages wraps the driver's error as the cause of its own). */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && chain.length < 10; current = (current as { cause?: unknown }).cause) {
    chain.push(current);
    if (!(current instanceof Error)) break;
  }
  return chain;
}

/** A connect to every address of a host fails as an AggregateError with an empty message of its own. */
function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') return error.errors.map(messageOf).join('; ');
  return error instanceof Error ? error.message : String(error);
}
