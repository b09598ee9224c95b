import type { Notification } from '@herald/protocol';
import type { Clock } from './clock.js';
import { nextExpiry } from './notification-expiry.js';

/** setTimeout takes at most 2^31 - 1 ms; a later expiry is reached in steps of this. */
const LONGEST_WAIT_MS = 2 ** 31 - 1;

/**
 * One timer for a list: it fires at the earliest expires_at still to come, so the list drops an expired
 * notification when it expires rather than at the next event. Scheduling again replaces the timer.
 */
export class ExpiryTimer {
  readonly #clock: Clock;
  readonly #expired: () => void;
  #timer: unknown;
  #at: number | undefined;

  constructor(clock: Clock, expired: () => void) {
    this.#clock = clock;
    this.#expired = expired;
  }

  schedule(list: readonly Notification[]): void {
    const now = this.#clock.now();
    const at = nextExpiry(list, now);
    if (at === this.#at) return;
    this.cancel();
    if (at === undefined) return;
    this.#at = at;
    this.#timer = this.#clock.setTimeout(() => {
      this.#at = undefined;
      this.#expired();
    }, Math.min(at - now, LONGEST_WAIT_MS));
  }

  cancel(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#at = undefined;
  }
}
