/** What an ingest source reports to /readyz. */
export type SourceState = 'stopped' | 'connecting' | 'running' | 'retrying';

/**
 * A producer-facing door other than HTTP (Kafka today). Every source hands its events to the one Delivery
 * pipeline; a source only decides when its input counts as taken (e.g. when to commit an offset).
 */
export interface IngestSource {
  readonly name: string;
  /** Begins consuming in the background; connection failures are retried, not thrown. */
  start(): void;
  /** Stops taking input and waits for the batch in hand to be stored (or abandoned uncommitted). */
  stop(): Promise<void>;
  state(): SourceState;
}
