import { Consumer } from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { KafkaConfig } from '../config.js';
import type { Delivery } from '../deliver.js';
import type { Metrics } from '../metrics.js';
import { backoffDelay, sleep } from '../timing.js';
import { kafkaConnection } from './kafka-connection.js';
import { DeadLetters } from './kafka-dead-letter.js';
import { KafkaIntake, type KafkaMessage, type KafkaStream } from './kafka-intake.js';
import { sortBatch } from './kafka-record.js';
import type { IngestSource, SourceState } from './source.js';

export interface KafkaSourceOptions {
  config: KafkaConfig;
  delivery: Delivery;
  metrics: Metrics;
  logger: Logger;
  /**
   * The largest record value taken, in bytes; a larger one is dead-lettered unread. The gateway gives it
   * HERALD_MAX_BODY_BYTES, so a producer meets one bound whether it publishes over HTTP or Kafka.
   */
  maxRecordBytes: number;
  /**
   * The largest frame a record may become, in bytes; a record over it is dead-lettered. The gateway gives it
   * HERALD_MAX_BUFFERED_BYTES, the most a tab may be sent at once; left out, decodeKafkaRecord's default.
   */
  maxFrameBytes?: number;
  clientId?: string;
}

/** How often consumer lag is read for /metrics. */
const LAG_INTERVAL_MS = 5_000;
const COMMIT_ATTEMPTS = 3;

/**
 * Group membership timeouts. A JoinGroup is answered only once every known member has rejoined or timed out, and
 * the client gives every request 30 s (its requestTimeout). With the client's defaults (a 60 s session) a
 * gateway restarted after kill -9 found its dead predecessor still in the group, and its join timed out before
 * the coordinator dropped that member. Sessions and rebalances shorter than the request timeout let a join always
 * finish: a dead member is noticed within 10 s, and its partitions are taken over then.
 */
const GROUP_TIMEOUTS = { sessionTimeout: 10_000, rebalanceTimeout: 20_000, heartbeatInterval: 3_000 };

/**
 * Consumes the notifications topic into the one Delivery pipeline, at least once and in order per partition.
 *
 * One loop takes a batch of what the stream has buffered, stores it in one transaction, dead-letters what cannot
 * be decoded, and only then commits each partition's last offset. While a batch is stored (or retried, when
 * the database is down) the next batch waits in a queue that pauses the stream when full, so the partitions
 * stop being fetched instead of piling records up in memory. A crash between storing and committing replays the
 * batch, and the records' idempotency keys make that replay store and deliver nothing twice.
 */
export class KafkaSource implements IngestSource {
  readonly name = 'kafka';
  private current: SourceState = 'stopped';
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  private readonly deadLetters: DeadLetters;
  private stream: KafkaStream | undefined;

  constructor(private readonly options: KafkaSourceOptions) {
    const { config, logger, clientId = 'herald' } = options;
    this.consumer = this.createConsumer();
    this.deadLetters = new DeadLetters({ clientId, connection: kafkaConnection(config), topic: config.deadLetterTopic, logger });
  }

  private createConsumer(): Consumer<Buffer, Buffer, Buffer, Buffer> {
    const { config, logger, clientId = 'herald' } = this.options;
    const consumer = new Consumer({ clientId, groupId: config.group, ...kafkaConnection(config), ...GROUP_TIMEOUTS });
    consumer.on('error', (error: Error) => logger.warn({ err: error }, 'kafka consumer error'));
    consumer.on('consumer:lag', (lag: Map<string, bigint[]>) => this.recordLag(lag));
    return consumer;
  }

  state(): SourceState {
    return this.current;
  }

  start(): void {
    this.running ??= this.supervise();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.stream?.destroy();
    await this.running;
    await Promise.allSettled([this.consumer.close(true), this.deadLetters.close()]);
    this.current = 'stopped';
  }

  /** Keeps a stream open: a broker that is down or a stream that fails is retried with backoff, never given up. */
  private async supervise(): Promise<void> {
    const { logger } = this.options;
    for (let attempt = 0; !this.abort.signal.aborted; attempt++) {
      this.current = attempt === 0 ? 'connecting' : 'retrying';
      try {
        await this.consume();
        attempt = -1;
      } catch (error) {
        if (this.abort.signal.aborted) break;
        logger.warn({ err: error, attempt }, 'kafka consumption failed; retrying');
        this.stream?.destroy();
        await this.replaceConsumer();
        await sleep(backoffDelay(attempt, 200, 15_000), this.abort.signal);
      }
    }
  }

  /**
   * Leaves the group and starts over with a new consumer. The client's consumer, once a join has failed (e.g.
   * timed out), keeps the member id it was given and counts the topic as subscribed: consume() on it again skips
   * the join and returns a stream with no partitions that never fetches, and no heartbeat ever says otherwise.
   */
  private async replaceConsumer(): Promise<void> {
    try {
      await this.consumer.close(true);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'closing the kafka consumer failed');
    }
    this.consumer = this.createConsumer();
  }

  private async consume(): Promise<void> {
    const { config } = this.options;
    this.stream = await this.consumer.consume({
      topics: [config.topic],
      autocommit: false,
      // Start where the group committed; a new group reads the topic from its beginning, so nothing produced
      // before Herald first started is lost.
      mode: 'committed',
      fallbackMode: 'earliest',
      maxWaitTime: 500,
      highWaterMark: config.batchSize,
    });
    this.consumer.startLagMonitoring({ topics: [config.topic] }, LAG_INTERVAL_MS);
    this.current = 'running';
    this.options.logger.info({ topic: config.topic, group: config.group }, 'consuming from kafka');
    const intake = new KafkaIntake(this.stream, config.batchSize, this.abort.signal);
    for (;;) {
      const batch = await intake.take();
      if (batch.length === 0) return;
      await this.handle(batch);
      if (this.abort.signal.aborted) return;
    }
  }

  /** Dead-letters what cannot be decoded, stores the rest in one transaction, then commits past the batch. */
  private async handle(batch: KafkaMessage[]): Promise<void> {
    const { metrics, maxRecordBytes, maxFrameBytes } = this.options;
    const { inputs, dead } = sortBatch(batch, maxRecordBytes, maxFrameBytes);
    if (dead.length > 0) {
      if (!(await this.retrying('dead-letter', () => this.deadLetters.send(dead)))) return;
      metrics.kafkaRecords.inc({ outcome: 'dead_lettered' }, dead.length);
    }
    const result = await this.retrying('store', () => this.options.delivery.publish(inputs));
    if (!result) return;
    const stored = result.value;
    metrics.kafkaRecords.inc({ outcome: 'stored' }, stored.length);
    metrics.kafkaRecords.inc({ outcome: 'duplicate' }, inputs.length - stored.length);
    await this.commit(batch);
  }

  /**
   * Runs `work` until it succeeds, with backoff; the batch is never skipped. Resolves undefined only when the
   * source stops meanwhile: the batch then stays uncommitted and is consumed again later.
   */
  private async retrying<T>(what: string, work: () => Promise<T>): Promise<{ value: T } | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        const value = await work();
        if (attempt > 0) this.current = 'running';
        return { value };
      } catch (error) {
        if (this.abort.signal.aborted) return undefined;
        this.current = 'retrying';
        this.options.metrics.kafkaRetries.inc();
        this.options.logger.warn({ err: error, attempt }, `kafka batch: ${what} failed; retrying`);
        await sleep(backoffDelay(attempt), this.abort.signal);
        if (this.abort.signal.aborted) return undefined;
      }
    }
  }

  /**
   * Commits the next offset of each partition in the batch. A failure is not retried for long: after a rebalance
   * the partition belongs to another member, which replays the records and finds them already stored.
   */
  private async commit(batch: KafkaMessage[]): Promise<void> {
    const last = new Map<string, KafkaMessage>();
    for (const record of batch) last.set(`${record.topic}:${record.partition}`, record);
    for (const record of last.values()) {
      for (let attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
        if (!this.stillOwns(record)) break;
        try {
          await record.commit();
          break;
        } catch (error) {
          this.options.logger.warn({ err: error, partition: record.partition }, 'kafka offset commit failed');
          await sleep(backoffDelay(attempt), this.abort.signal);
        }
      }
    }
  }

  private recordLag(lag: Map<string, bigint[]>): void {
    const partitions = lag.get(this.options.config.topic) ?? [];
    const assigned = this.assignedPartitions();
    partitions.forEach((behind, partition) => {
      const labels = { partition: String(partition) };
      // Partitions not assigned to this member are reported as -1 (or with a value, for one that a commit of
      // this member touched after a rebalance took it away). Their gauges go: a partition given away must not
      // show the lag it had here forever.
      if (behind >= 0n && assigned.has(partition)) this.options.metrics.kafkaLag.set(labels, Number(behind));
      else this.options.metrics.kafkaLag.remove(labels);
    });
  }

  /**
   * Whether this member may commit past `record`: it was fetched in the current generation of the group and its
   * partition is still assigned here. After a rebalance the partition's owner (another member, or this one again)
   * reads on from the last commit, finds the records stored, and commits past them. A commit of a record from an
   * earlier generation could land after those and move the group's offset back: records read again after a
   * restart, and lag that is not there.
   */
  private stillOwns(record: KafkaMessage): boolean {
    const fetchedIn = (record.metadata as { consumer?: { generationId?: number } }).consumer?.generationId;
    return fetchedIn === this.consumer.generationId && this.assignedPartitions().has(record.partition);
  }

  /** The topic's partitions assigned to this member now. */
  private assignedPartitions(): Set<number> {
    const assignment = this.consumer.assignments?.find((entry) => entry.topic === this.options.config.topic);
    return new Set(assignment?.partitions ?? []);
  }
}
