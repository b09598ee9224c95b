import type { Logger } from 'pino';
import { createClient } from 'redis';
import { StartupError } from '../errors.js';
import { redactSecretsInText } from '../logger.js';
import { backoffDelay } from '../timing.js';

export type RedisClient = ReturnType<typeof createClient>;

/** What /readyz reports: both connections ready, or at least one of them reconnecting. */
export type RedisState = 'ok' | 'reconnecting';

/** How long start-up keeps trying before it gives up with a message naming HERALD_REDIS_URL. */
const START_ATTEMPTS = 10;
const START_RETRY_MS = 200;
/** After start-up a lost connection is retried forever, backing off to this. */
const MAX_RETRY_MS = 2_000;

/**
 * A node's two connections to Redis: `commands` (publish, presence) and `subscriber`, which only subscribes
 * (a subscribed RESP2 connection can run nothing else). After start-up both reconnect forever with capped,
 * jittered backoff, and node-redis subscribes the subscriber's channels again before it reports 'ready'.
 *
 * Commands issued while a connection is down fail at once instead of waiting in node-redis's offline queue: a
 * publish sent minutes late is no better than none (the store has the event and receivers catch up by seq), and
 * an unbounded queue would grow for as long as Redis is away.
 */
export class RedisLink {
  readonly commands: RedisClient;
  readonly subscriber: RedisClient;
  private started = false;

  constructor(
    url: string,
    private readonly logger: Logger,
  ) {
    this.commands = createClient({
      url,
      disableOfflineQueue: true,
      socket: { connectTimeout: 2_000, reconnectStrategy: (retries, cause) => this.retryDelay(retries, cause) },
    });
    this.subscriber = this.commands.duplicate();
    this.watch(this.commands, 'commands');
    this.watch(this.subscriber, 'subscriber');
  }

  /**
   * Connects both; when Redis does not answer at start-up (or refuses the credentials) rejects with a
   * StartupError naming HERALD_REDIS_URL, never its password, having ended both connections: nothing keeps the
   * process alive but an attempt already in flight, which gives up within its connect timeout or retry delay.
   */
  async connect(): Promise<void> {
    const attempts = [this.commands.connect(), this.subscriber.connect()];
    try {
      await Promise.all(attempts);
    } catch (error) {
      this.destroy();
      // The other connection may be mid-attempt: one that gets through after all is ended as soon as it does.
      for (const attempt of attempts) attempt.then(() => this.destroy(), () => this.destroy());
      throw new StartupError(`HERALD_REDIS_URL: Redis did not answer (${redactSecretsInText(messageOf(error))})`, { cause: error });
    }
    this.started = true;
  }

  get state(): RedisState {
    return this.commands.isReady && this.subscriber.isReady ? 'ok' : 'reconnecting';
  }

  async close(): Promise<void> {
    this.started = false;
    await Promise.all([quit(this.commands), quit(this.subscriber)]);
  }

  /** Ends both at once. Unconditional: a client that is not open may still hold a socket it was connecting. */
  private destroy(): void {
    this.commands.destroy();
    this.subscriber.destroy();
  }

  private retryDelay(retries: number, cause: Error): number | Error {
    if (!this.started) return retries >= START_ATTEMPTS ? cause : START_RETRY_MS;
    // Jitter, so that every node of a cluster does not reconnect to a restarted Redis in the same millisecond.
    return backoffDelay(retries, 50, MAX_RETRY_MS);
  }

  /** Logs an outage once when it begins and once when it ends, not once per failed reconnect attempt. */
  private watch(client: RedisClient, role: string): void {
    let lost = false;
    client.on('error', (error: Error) => {
      if (lost || !this.started) return;
      lost = true;
      this.logger.warn({ err: error, redis: role }, 'Redis connection lost; reconnecting');
    });
    client.on('ready', () => {
      if (!lost) return;
      lost = false;
      this.logger.info({ redis: role }, 'Redis connection restored');
    });
  }
}

async function quit(client: RedisClient): Promise<void> {
  if (!client.isOpen) return;
  // close() waits for replies in flight; a client that is reconnecting has none worth waiting for.
  if (client.isReady) await client.close().catch(() => client.destroy());
  else client.destroy();
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
