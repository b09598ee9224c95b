export interface HandshakeQueueOptions<T> {
  /** Handshakes verified at once. */
  maxInFlight: number;
  /** Upgrades that wait for a slot; past this they are refused. */
  maxWaiting: number;
  /** How long one may wait for a slot before it is refused (its client has likely given up). */
  maxWaitMs: number;
  /** Runs one handshake; never rejects, and the slot is given back when it settles. */
  run(item: T): Promise<void>;
  /** Whether the item's client went away while it waited. */
  gone(item: T): boolean;
  /** An item that waited too long: refuse it. */
  expire(item: T): void;
  /** The number waiting changed (for the gauge). */
  waitingChanged(count: number): void;
  now?: () => number;
}

/**
 * The handshake budget: at most `maxInFlight` token verifications at once and a bounded FIFO of upgrades waiting
 * for a slot, so that a connect storm waits its turn instead of being refused, and cannot queue without end.
 */
export class HandshakeQueue<T> {
  private inFlight = 0;
  private readonly waiting: { item: T; queuedAt: number }[] = [];
  private readonly now: () => number;

  constructor(private readonly options: HandshakeQueueOptions<T>) {
    // Looked up on each call, not captured: a test may replace Date.now after the gateway started.
    this.now = options.now ?? (() => Date.now());
  }

  /** Starts the handshake now or queues it; false when the queue is full (the caller refuses it). */
  offer(item: T): boolean {
    if (this.inFlight < this.options.maxInFlight) {
      this.start(item);
      return true;
    }
    if (this.waiting.length >= this.options.maxWaiting) return false;
    this.waiting.push({ item, queuedAt: this.now() });
    this.options.waitingChanged(this.waiting.length);
    return true;
  }

  /** Empties the queue (for a drain) and returns what was waiting, oldest first. */
  takeWaiting(): T[] {
    const items = this.waiting.splice(0).map((entry) => entry.item);
    this.options.waitingChanged(0);
    return items;
  }

  private start(item: T): void {
    this.inFlight++;
    void this.options.run(item).finally(() => {
      this.inFlight--;
      this.next();
    });
  }

  private next(): void {
    const now = this.now();
    while (this.inFlight < this.options.maxInFlight && this.waiting.length > 0) {
      const { item, queuedAt } = this.waiting.shift()!;
      if (this.options.gone(item)) continue;
      if (now - queuedAt > this.options.maxWaitMs) this.options.expire(item);
      else this.start(item);
    }
    this.options.waitingChanged(this.waiting.length);
  }
}
