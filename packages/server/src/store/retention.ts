import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { InboxLimits, Store } from './store.js';

export interface RetentionOptions {
  store: Store;
  logger: Logger;
  /** HERALD_RETENTION_DAYS. */
  retentionDays: number;
  /** HERALD_MAX_NOTIFICATIONS_PER_USER, for users past it who have not appended since it was lowered. */
  limits?: InboxLimits;
  /** Between two sweeps; the first runs this long after start. */
  intervalMs?: number;
  /** Rows per kind per transaction: small, so that no sweep holds a lock for long. */
  batch?: number;
}

const DAY_MS = 24 * 3600 * 1000;
/** A minute: expired notifications are hidden at once by every query, so their removal is no hurry. */
export const SWEEP_INTERVAL_MS = 60_000;
export const SWEEP_BATCH = 500;

/**
 * Removes what Herald no longer keeps: notifications and stream events older than HERALD_RETENTION_DAYS, and
 * expired notifications. Every node runs one: sweeps of several nodes over one database are safe (Store.sweep),
 * and they share the work. A sweep removes batch after batch, letting the event loop run between them, until a
 * batch finds nothing; a failed sweep (the database is down) is logged once and tried again at the next interval.
 */
export class Retention {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(private readonly options: RetentionOptions) {}

  start(): void {
    const every = this.options.intervalMs ?? SWEEP_INTERVAL_MS;
    this.#timer = setInterval(() => void this.sweepNow(), every);
    this.#timer.unref();
  }

  /** One sweep to its end; concurrent calls share it. Resolves with the rows removed (0 when one was running). */
  async sweepNow(): Promise<void> {
    if (this.#running !== undefined || this.#stopped) return this.#running;
    this.#running = this.#sweep().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#running;
  }

  async #sweep(): Promise<void> {
    const { store, logger, retentionDays } = this.options;
    const batch = this.options.batch ?? SWEEP_BATCH;
    let notifications = 0;
    let events = 0;
    try {
      for (;;) {
        const now = Date.now();
        const removed = await store.sweep({
          olderThan: new Date(now - retentionDays * DAY_MS).toISOString(),
          expiredBefore: new Date(now).toISOString(),
          batch,
          limits: this.options.limits,
        });
        notifications += removed.notifications;
        events += removed.events;
        if ((removed.notifications === 0 && removed.events === 0) || this.#stopped) break;
        await nextTurn();
      }
    } catch (error) {
      logger.warn({ err: error }, 'removing old and expired notifications failed; it is tried again in a minute');
    }
    if (notifications + events > 0) logger.info({ notifications, events }, 'removed old and expired notifications and events');
  }
}
