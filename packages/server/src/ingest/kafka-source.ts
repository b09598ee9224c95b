import { setImmediate as nextTurn } from 'node:timers/promises';
import { Consumer } from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { KafkaConfig } from '../config.js';
import type { Delivery, StoredBatch } from '../deliver.js';
import type { Metrics } from '../metrics.js';
import { StartupError } from '../errors.js';
import { backoffDelay, sleep, withTimeout } from '../timing.js';
import { explainKafkaFailure, kafkaConnection, type KafkaConnection } from './kafka-connection.js';
import { DeadLetters } from './kafka-dead-letter.js';
import { isKafkaUnreachable, isTransientStoreFailure, oneLine } from './kafka-failures.js';
import { KafkaIntake, type KafkaMessage, type KafkaStream } from './kafka-intake.js';
import { sortBatch, type AcceptedRecord, type DeadRecord } from './kafka-record.js';
import { KafkaTopics } from './kafka-topics.js';
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

/**
 * A batch's bytes (keys and values), besides HERALD_KAFKA_BATCH_SIZE's records. At the default 5,000 records of a
 * few hundred bytes this never decides; with records near HERALD_MAX_BODY_BYTES it keeps a batch (and the next one,
 * gathering while it is stored) to tens of megabytes instead of thousands of them.
 */
const BATCH_BYTES = 16 * 1024 * 1024;
/**
 * Records the client's stream reads ahead while the intake is paused (what it read ahead at the old default batch
 * of 500): the next batch gathers in the intake itself, so this bounds what a paused stream holds, not how fast a
 * backlog drains.
 */
const READ_AHEAD_RECORDS = 500;
/**
 * The most one fetch response may carry, in bytes (per request, and so per partition). The client's default is
 * 50 MB, and a response is decoded in one go: the first fetch of a backlog held the event loop ~0.9 s and tens of
 * megabytes of records in memory. At 1 MiB the longest hold of a drain fell to ~0.4 s at the same rate
 * (BENCHMARKS.md, Kafka). A record batch larger than this still comes, alone: Kafka always returns the first one.
 */
const FETCH_BYTES = 1024 * 1024;
/** A batch as taken from the stream, and its records sorted into those to store and those to dead-letter. */
interface SortedBatch {
  batch: KafkaMessage[];
  accepted: AcceptedRecord<KafkaMessage>[];
  dead: DeadRecord<KafkaMessage>[];
}

/** What storing a SortedBatch gave: the stored parts to deliver, in order, and the records the database refused. */
interface StoredRecords {
  sorted: SortedBatch;
  batches: StoredBatch[];
  refused: DeadRecord<KafkaMessage>[];
}

/** How often consumer lag is read for /metrics. */
const LAG_INTERVAL_MS = 5_000;
const COMMIT_ATTEMPTS = 3;
/**
 * Sends of one batch's dead letters before the source gives up: with the backoff below, about half a minute.
 * A send that fails this long is refused by the cluster (a deleted topic, a record too large for it, a missing
 * permission), and retrying it forever would stall its partitions without anyone seeing why.
 */
const DEAD_LETTER_ATTEMPTS = 8;
/** How often a topic that does not exist yet is looked for again. */
const TOPIC_POLL_MS = 2_000;
/** The start-up check's bound: an unreachable cluster is then left to the background, which retries it. */
const PREPARE_TIMEOUT_MS = 10_000;

/**
 * Group membership timeouts. A JoinGroup is answered only once every known member has rejoined or timed out, and
 * the client gives every request 30 s (its requestTimeout). With the client's defaults (a 60 s session) a
 * gateway restarted after kill -9 found its dead predecessor still in the group, and its join timed out before
 * the coordinator dropped that member. Sessions and rebalances shorter than the request timeout let a join always
 * finish: a dead member is noticed within 10 s, and its partitions are taken over then. A member learns of a
 * rebalance (a node joining or leaving) from its next heartbeat, and the group's partitions wait until the last
 * member has rejoined: a heartbeat every second makes that wait about a second rather than three.
 */
const GROUP_TIMEOUTS = { sessionTimeout: 10_000, rebalanceTimeout: 20_000, heartbeatInterval: 1_000 };

/**
 * Consumes the notifications topic into the one Delivery pipeline, at least once and in order per partition.
 *
 * One loop takes a batch of what the stream has buffered, stores it in one transaction, delivers it, dead-letters
 * what cannot be stored, and only then commits each partition's last offset (while the next batch is stored).
 * While a batch is stored, the next one is decoded, and its store starts before the last one is delivered. While
 * a batch is stored (or retried, when the database is down) the batches after it wait in a queue that pauses the
 * stream when full, so the partitions stop being fetched instead of piling records up in memory. A crash between
 * storing and committing replays the batch, and the records' idempotency keys make that replay store and deliver
 * nothing twice.
 */
export class KafkaSource implements IngestSource {
  readonly name = 'kafka';
  private current: SourceState = 'stopped';
  private why: string | undefined;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private readonly connection: KafkaConnection;
  private consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  private readonly deadLetters: DeadLetters;
  private readonly topics: KafkaTopics;
  /** Whether both topics have been seen (and the dead-letter one made) since start. */
  private topicsReady = false;
  private stream: KafkaStream | undefined;

  constructor(private readonly options: KafkaSourceOptions) {
    const { config, logger, clientId = 'herald' } = options;
    this.connection = kafkaConnection(config);
    this.consumer = this.createConsumer();
    this.deadLetters = new DeadLetters({ clientId, connection: this.connection, topic: config.deadLetterTopic, logger });
    this.topics = new KafkaTopics(config, this.connection, clientId);
  }

  private createConsumer(): Consumer<Buffer, Buffer, Buffer, Buffer> {
    const { config, logger, clientId = 'herald' } = this.options;
    const consumer = new Consumer({ clientId, groupId: config.group, ...this.connection, ...GROUP_TIMEOUTS });
    // One line per failure: the supervising loop retries, and a stack trace every few seconds says nothing more.
    consumer.on('error', (error: Error) => logger.warn({ reason: oneLine(error) }, 'kafka consumer error'));
    consumer.on('consumer:lag', (lag: Map<string, bigint[]>) => this.recordLag(lag));
    return consumer;
  }

  state(): SourceState {
    return this.current;
  }

  reason(): string | undefined {
    return this.current === 'running' ? undefined : this.why;
  }

  private enter(state: SourceState, why?: string): void {
    this.current = state;
    this.why = why;
  }

  /**
   * One look at the cluster before the node starts: refused credentials or certificates, or a topic that must
   * exist (HERALD_KAFKA_CREATE_TOPICS=false) and does not, stop start-up. An unreachable cluster does not: the
   * background retries it, as it does a cluster that goes away later.
   */
  async prepare(): Promise<void> {
    const { config, logger } = this.options;
    try {
      await withTimeout(this.ensureTopics(), PREPARE_TIMEOUT_MS);
    } catch (error) {
      const explained = error instanceof StartupError ? undefined : explainKafkaFailure(error, config);
      // A line about reaching the brokers names HERALD_KAFKA_BROKERS; one about credentials or TLS names others.
      const refused = explained !== undefined && !explained.includes('(HERALD_KAFKA_BROKERS)');
      if (!(error instanceof StartupError) && !refused && (isKafkaUnreachable(error) || /no answer within/.test(oneLine(error)))) {
        logger.warn({ reason: explained ?? oneLine(error) }, 'kafka is not reachable yet; retrying in the background');
        return;
      }
      // The node does not start: no client of this source may keep a socket (or the process) open.
      await this.closeClients();
      if (error instanceof StartupError) throw error;
      throw new StartupError(explained ?? `Kafka refused Herald's connection (HERALD_KAFKA_BROKERS): ${oneLine(error)}`, { cause: error });
    }
  }

  start(): void {
    this.running ??= this.supervise();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.stream?.destroy();
    await this.running;
    await this.closeClients();
    if (this.current !== 'failed') this.enter('stopped');
  }

  private async closeClients(): Promise<void> {
    await Promise.allSettled([this.consumer.close(true), this.deadLetters.close(), this.topics.close()]);
  }

  /**
   * Sees both topics. A missing dead-letter topic is made like the topic; a missing topic is a StartupError when
   * topics may not be made, and otherwise returns false (the caller waits for it).
   */
  private async ensureTopics(): Promise<boolean> {
    if (this.topicsReady) return true;
    const { config, logger } = this.options;
    const seen = await this.topics.inspect();
    if (!config.createTopics) {
      if (!seen.topic) throw new StartupError(`Kafka topic ${config.topic} does not exist (HERALD_KAFKA_TOPIC; HERALD_KAFKA_CREATE_TOPICS=false)`);
      if (!seen.deadLetterExists) {
        throw new StartupError(`Kafka dead-letter topic ${config.deadLetterTopic} does not exist (HERALD_KAFKA_DLQ_TOPIC; HERALD_KAFKA_CREATE_TOPICS=false)`);
      }
    }
    if (!seen.topic) return false;
    if (!seen.deadLetterExists) {
      await this.topics.createDeadLetter(seen.topic);
      logger.info({ topic: config.deadLetterTopic, partitions: seen.topic.partitions }, 'created the kafka dead-letter topic');
    }
    this.topicsReady = true;
    await this.topics.close();
    return true;
  }

  /** Waits, quietly, until the topic exists: one log line, and /readyz says why meanwhile. */
  private async waitForTopics(): Promise<void> {
    const { config, logger } = this.options;
    let told = false;
    while (!this.abort.signal.aborted && !(await this.ensureTopics())) {
      if (!told) logger.info({ topic: config.topic }, 'kafka topic does not exist yet; waiting for it');
      told = true;
      this.enter('waiting', `topic ${config.topic} does not exist yet`);
      await sleep(TOPIC_POLL_MS, this.abort.signal);
    }
  }

  /**
   * Keeps a stream open: a broker that is down or a stream that fails is retried with backoff. It ends when the
   * source stops, or fails (a batch whose dead letters the cluster keeps refusing).
   */
  private async supervise(): Promise<void> {
    const { logger } = this.options;
    for (let attempt = 0; !this.abort.signal.aborted && this.current !== 'failed'; attempt++) {
      if (attempt === 0) this.enter('connecting');
      try {
        await this.waitForTopics();
        await this.consume();
        attempt = -1;
      } catch (error) {
        if (this.abort.signal.aborted) break;
        this.enter('retrying', oneLine(error));
        logger.warn({ reason: oneLine(error), attempt }, 'kafka consumption failed; retrying');
        this.stream?.destroy();
        await this.replaceConsumer();
        await sleep(backoffDelay(attempt, 200, 15_000), this.abort.signal);
      }
    }
    // A failed source leaves the group, so that its partitions go to a member that may still take them.
    if (this.current === 'failed') await this.replaceConsumer();
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
      this.options.logger.warn({ reason: oneLine(error) }, 'closing the kafka consumer failed');
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
      highWaterMark: READ_AHEAD_RECORDS,
      maxBytes: FETCH_BYTES,
    });
    this.consumer.startLagMonitoring({ topics: [config.topic] }, LAG_INTERVAL_MS);
    this.enter('running');
    this.options.logger.info({ topic: config.topic, group: config.group }, 'consuming from kafka');
    const intake = new KafkaIntake(this.stream, { records: config.batchSize, bytes: BATCH_BYTES }, this.abort.signal);
    // A batch's offsets are committed while the next batch is stored: a commit is a round trip to the group
    // coordinator that delivery need not wait for. At most one commit is in flight, and they go in order.
    let committing = Promise.resolve();
    // The batch being stored, and the next one, decoded meanwhile when its records are here already. The next
    // store starts only once the last one has ended (retries and refused records included), so batches are
    // stored in their order and none is stored before one that failed; it starts before the last batch is
    // delivered, so that with the store on a thread of its own (a backlog's large batches) the two overlap.
    let storing: Promise<StoredRecords | undefined> | undefined;
    let next: SortedBatch | undefined;
    try {
      for (;;) {
        if (storing === undefined) {
          const sorted = next ?? (await this.takeSorted(intake));
          next = undefined;
          if (sorted === undefined) return;
          storing = this.store(sorted);
        }
        if (next === undefined) {
          // Taken while this batch stores: the next whole batch as soon as it is here, else, once the store has
          // ended, whatever has arrived. Checked only once, right after the store began, the queue was nearly
          // always empty then (the take had just emptied it, and the next fetch was on its way), and every batch
          // of a backlog was decoded only after the last one was stored: nothing overlapped.
          const whole = await Promise.race([intake.whenBatchWaiting().then(() => true), storing.then(() => false, () => false)]);
          if (whole || intake.hasRecords()) next = await this.takeSorted(intake);
        }
        const stored = await storing;
        storing = undefined;
        if (stored === undefined) return;
        if (next !== undefined && !this.abort.signal.aborted) {
          storing = this.store(next);
          next = undefined;
          // One turn, so that the store's group commit (a setImmediate) hands the batch over before the fan-out.
          await nextTurn();
        }
        for (const batch of stored.batches) batch.deliver();
        if (!(await this.deadLetterRefused(stored))) return;
        await committing;
        committing = this.commit(stored.sorted.batch);
      }
    } finally {
      // A batch stored while this one failed is delivered, not committed: it is consumed again, and found stored.
      const last = await storing;
      for (const batch of last?.batches ?? []) batch.deliver();
      await committing;
    }
  }

  /** The next batch, decoded; undefined once stopping. */
  private async takeSorted(intake: KafkaIntake): Promise<SortedBatch | undefined> {
    const batch = await intake.take();
    if (batch.length === 0) return undefined;
    const { maxRecordBytes, maxFrameBytes, config } = this.options;
    return { batch, ...sortBatch(batch, maxRecordBytes, maxFrameBytes, config.format) };
  }

  /**
   * Dead-letters what could not be stored of a stored batch; true when the batch may be committed. Nothing is
   * committed that is neither stored nor dead-lettered.
   */
  private async deadLetterRefused(stored: StoredRecords): Promise<boolean> {
    const dead = [...stored.sorted.dead, ...stored.refused];
    if (dead.length > 0) {
      if (!(await this.deadLetter(dead))) return false;
      this.options.metrics.kafkaRecords.inc({ outcome: 'dead_lettered' }, dead.length);
    }
    return !this.abort.signal.aborted;
  }

  /**
   * Stores a batch's records in order, and returns what was stored (to deliver) and the records the database
   * refused (a value it cannot take, a constraint), which no retry would change. An outage is retried until the
   * database is back. A refused transaction is split in halves, stored left then right, so that one bad record
   * costs a few transactions and the records around it are stored in their order. Undefined when the source
   * stops meanwhile (the batch stays uncommitted).
   */
  private async store(sorted: SortedBatch): Promise<StoredRecords | undefined> {
    const refused: DeadRecord<KafkaMessage>[] = [];
    const batches: StoredBatch[] = [];
    const { metrics, delivery } = this.options;
    const storeSlice = async (slice: AcceptedRecord<KafkaMessage>[]): Promise<boolean> => {
      if (slice.length === 0) return true;
      for (let attempt = 0; ; attempt++) {
        try {
          const stored = await delivery.storeBatch(slice.map(({ input }) => input));
          batches.push(stored);
          if (attempt > 0) this.enter('running');
          metrics.kafkaRecords.inc({ outcome: 'stored' }, stored.events.length);
          metrics.kafkaRecords.inc({ outcome: 'duplicate' }, slice.length - stored.events.length);
          return true;
        } catch (error) {
          if (this.abort.signal.aborted) return false;
          if (!isTransientStoreFailure(error)) {
            if (slice.length === 1) {
              refused.push({ record: slice[0]!.record, reason: `the database refused the record: ${oneLine(error)}` });
              return true;
            }
            const half = Math.ceil(slice.length / 2);
            return (await storeSlice(slice.slice(0, half))) && storeSlice(slice.slice(half));
          }
          this.retried('store', error, attempt);
          await sleep(backoffDelay(attempt), this.abort.signal);
          if (this.abort.signal.aborted) return false;
        }
      }
    };
    return (await storeSlice(sorted.accepted)) ? { sorted, refused, batches } : undefined;
  }

  /**
   * Sends dead letters, retrying a bounded number of times. When the cluster is out of reach the stream has
   * failed too: that is thrown, and the batch is consumed again once it is back. When it answers and keeps
   * refusing, the source fails: it stops consuming, /readyz says why, and nothing is skipped.
   */
  private async deadLetter(dead: DeadRecord<KafkaMessage>[]): Promise<boolean> {
    const { logger, metrics, config } = this.options;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.deadLetters.send(dead);
        if (attempt > 0) this.enter('running');
        return true;
      } catch (error) {
        if (this.abort.signal.aborted) return false;
        if (attempt + 1 >= DEAD_LETTER_ATTEMPTS) {
          if (isKafkaUnreachable(error)) throw error;
          const why = `dead-lettering to ${config.deadLetterTopic} failed ${DEAD_LETTER_ATTEMPTS} times (${oneLine(error)}); the consumer stopped and restarts with the node`;
          this.enter('failed', why);
          metrics.kafkaStopped.set(1);
          logger.error({ topic: config.deadLetterTopic, reason: oneLine(error) }, why);
          this.stream?.destroy();
          return false;
        }
        this.retried('dead-letter', error, attempt);
        await sleep(backoffDelay(attempt, 200, 8_000), this.abort.signal);
        if (this.abort.signal.aborted) return false;
      }
    }
  }

  private retried(what: string, error: unknown, attempt: number): void {
    this.enter('retrying', `${what} failed: ${oneLine(error)}`);
    this.options.metrics.kafkaRetries.inc();
    this.options.logger.warn({ reason: oneLine(error), attempt }, `kafka batch: ${what} failed; retrying`);
  }

  /**
   * Commits the next offset of each partition in the batch. A failure is not retried for long: after a rebalance
   * the partition belongs to another member, which replays the records and finds them already stored.
   */
  private async commit(batch: KafkaMessage[]): Promise<void> {
    const last = new Map<string, KafkaMessage>();
    for (const record of batch) last.set(`${record.topic}:${record.partition}`, record);
    // Started together, the partitions' commits share the client's one request in flight (it merges them).
    await Promise.all([...last.values()].map((record) => this.commitRecord(record)));
  }

  private async commitRecord(record: KafkaMessage): Promise<void> {
    for (let attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
      if (!this.stillOwns(record)) return;
      try {
        await record.commit();
        return;
      } catch (error) {
        this.options.logger.warn({ reason: oneLine(error), partition: record.partition }, 'kafka offset commit failed');
        await sleep(backoffDelay(attempt), this.abort.signal);
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
