/**
 * What an ingest source reports to /readyz. `waiting`: its input does not exist yet (a topic not created yet);
 * `failed`: it stopped because going on would skip input, until the node restarts (the node is then unready).
 */
export type SourceState = 'stopped' | 'connecting' | 'waiting' | 'running' | 'retrying' | 'failed';

/**
 * A producer-facing door other than HTTP (Kafka today). Every source hands its events to the one Delivery
 * pipeline; a source only decides when its input counts as taken (e.g. when to commit an offset).
 */
export interface IngestSource {
  readonly name: string;
  /**
   * Checks at start-up what waiting cannot fix (credentials, a topic that must exist) and throws a StartupError
   * for it; what may pass (an unreachable cluster) is left to start() to retry.
   */
  prepare(): Promise<void>;
  /** Begins consuming in the background; connection failures are retried, not thrown. */
  start(): void;
  /** Stops taking input and waits for the batch in hand to be stored (or abandoned uncommitted). */
  stop(): Promise<void>;
  state(): SourceState;
  /** Why the source is waiting, retrying or failed, in one line; undefined while it runs. */
  reason(): string | undefined;
}
