import { backoffDelay, type ReconnectOptions } from './backoff.js';
import type { Clock } from './clock.js';

/**
 * The client's two timers: the wait before the next connection attempt (exponential backoff with full jitter,
 * counted per run of failures) and the liveness deadline, past which a connection is presumed dead.
 */
export class ConnectionTiming {
  readonly #clock: Clock;
  readonly #reconnect: ReconnectOptions;
  readonly #random: () => number;
  readonly #livenessGraceMs: number;
  #attempt = 0;
  #retryTimer: unknown;
  #livenessTimer: unknown;
  #pingIntervalMs = 0;

  constructor(options: { clock: Clock; reconnect: ReconnectOptions; random: () => number; livenessGraceMs: number }) {
    this.#clock = options.clock;
    this.#reconnect = options.reconnect;
    this.#random = options.random;
    this.#livenessGraceMs = options.livenessGraceMs;
  }

  /** A connection opened, or the application started anew: the next failure is the first again. */
  resetAttempts(): void {
    this.#attempt = 0;
  }

  /** Counts one more failed attempt; the wait before the next one, or undefined once maxAttempts are spent. */
  nextRetryDelay(): number | undefined {
    this.#attempt++;
    if (this.#attempt > this.#reconnect.maxAttempts) return undefined;
    return backoffDelay(this.#attempt, this.#reconnect, this.#random);
  }

  retryAfter(delayMs: number, attempt: () => void): void {
    this.#retryTimer = this.#clock.setTimeout(attempt, delayMs);
  }

  cancelRetry(): void {
    this.#clock.clearTimeout(this.#retryTimer);
  }

  /** Herald's ping interval, from its `connected` frame. */
  set pingIntervalMs(ms: number) {
    this.#pingIntervalMs = ms;
  }

  /** Herald pings every ping_interval_ms; two missed pings and a grace mean the path is dead (half-open TCP). */
  get silenceLimitMs(): number {
    return this.#pingIntervalMs * 2 + this.#livenessGraceMs;
  }

  /** Calls `silent` unless armLiveness or disarmLiveness is called again within `ms`. */
  armLiveness(ms: number, silent: () => void): void {
    this.#clock.clearTimeout(this.#livenessTimer);
    this.#livenessTimer = this.#clock.setTimeout(silent, ms);
  }

  disarmLiveness(): void {
    this.#clock.clearTimeout(this.#livenessTimer);
  }
}
