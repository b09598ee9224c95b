import { Producer, ProduceAcks, stringSerializers } from '@platformatic/kafka';

/**
 * A steady stream of notifications into the Kafka topic, round-robin over the users, keyed by user (so one
 * user's events keep their order in one partition) and each with its own id (so a retried send is stored once).
 * A send that fails (Kafka down) is retried until the broker takes it: nothing counts as produced before that.
 */
export class SteadyProducer {
  /** Per user, the event numbers Kafka acknowledged. */
  readonly produced = new Map<string, Set<number>>();
  private running = false;
  private loop: Promise<void> | undefined;
  failedSends = 0;

  constructor(
    private readonly brokers: string,
    private readonly topic: string,
    private readonly users: number,
    private readonly perSecond: number,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  get count(): number {
    let total = 0;
    for (const set of this.produced.values()) total += set.size;
    return total;
  }

  private async run(): Promise<void> {
    const producer = new Producer({
      clientId: 'herald-chaos',
      bootstrapBrokers: [this.brokers],
      serializers: stringSerializers,
      acks: ProduceAcks.ALL,
      idempotent: true,
      retries: 0,
    });
    let n = 0;
    // Ten sends a second, each a tenth of the rate.
    const batch = Math.max(1, Math.round(this.perSecond / 10));
    try {
      while (this.running) {
        const started = Date.now();
        const events = Array.from({ length: batch }, () => {
          n++;
          return { n, user: `chaos-user-${n % this.users}` };
        });
        for (;;) {
          try {
            await producer.send({
              messages: events.map(({ n: number, user }) => ({
                topic: this.topic,
                key: user,
                value: JSON.stringify({ user_id: user, type: 'new_notification', id: `chaos-${number}`, payload: { n: number, sent: Date.now() } }),
              })),
            });
            break;
          } catch {
            this.failedSends++;
            await new Promise((resolve) => setTimeout(resolve, 500));
          }
        }
        for (const { n: number, user } of events) {
          let set = this.produced.get(user);
          if (!set) this.produced.set(user, (set = new Set()));
          set.add(number);
        }
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, 100 - (Date.now() - started))));
      }
    } finally {
      await producer.close().catch(() => undefined);
    }
  }
}
