export interface ReconnectOptions {
  /** The cap of the first retry's delay. */
  initialDelayMs: number;
  /** The cap never grows past this. */
  maxDelayMs: number;
  /** Retries after a drop before the client gives up and goes `closed`; Infinity (the default) never gives up. */
  maxAttempts: number;
}

export const DEFAULT_RECONNECT = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  maxAttempts: Number.POSITIVE_INFINITY,
} satisfies ReconnectOptions;

/**
 * Exponential backoff with full jitter: attempt n waits a uniformly random time in [0, min(max, initial·2^(n-1))].
 * The randomness spreads a crowd of clients that lost the same server over the whole window, so a restart is not
 * met by every tab in the same millisecond.
 */
export function backoffDelay(attempt: number, options: ReconnectOptions, random: () => number): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const cap = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** exponent);
  return Math.floor(random() * cap);
}
