/**
 * What the wheel needs of a connection: its last sign of life, its next ping, an optional deadline of its own
 * (the token's expiry), and where the wheel put it.
 */
export interface KeepaliveEntry {
  lastSeenAt: number;
  nextPingAt: number;
  /** When `deadline` is due for this entry; Infinity for never. */
  deadlineAt: number;
  slot: number;
}

export interface KeepaliveOptions<T extends KeepaliveEntry> {
  pingIntervalMs: number;
  idleTimeoutMs: number;
  ping(entry: T): void;
  expire(entry: T): void;
  /** Called once `deadlineAt` has passed; it sets a new deadlineAt (or Infinity) or closes the entry. */
  deadline?(entry: T, now: number): void;
  now?: () => number;
}

/** Slots per shortest period: the wheel's precision is this fraction of min(ping interval, idle timeout). */
const TICKS_PER_PERIOD = 20;

/**
 * One timer for every connection's ping and idle check (a hashed timing wheel). Each entry sits in the slot of
 * its next due time; a message from the client only updates `lastSeenAt`, and the entry is moved lazily when its
 * slot comes round, so the work is one visit per entry per ping interval, whatever the traffic.
 */
export class KeepaliveWheel<T extends KeepaliveEntry> {
  private readonly slots: Set<T>[];
  private readonly tickMs: number;
  private readonly now: () => number;
  private cursor: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: KeepaliveOptions<T>) {
    this.now = options.now ?? Date.now;
    this.tickMs = Math.max(1, Math.floor(Math.min(options.pingIntervalMs, options.idleTimeoutMs) / TICKS_PER_PERIOD));
    const horizon = Math.max(options.pingIntervalMs, options.idleTimeoutMs);
    this.slots = Array.from({ length: Math.ceil(horizon / this.tickMs) + 2 }, () => new Set<T>());
    this.cursor = this.tickOf(this.now());
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(), this.tickMs);
    // The wheel must never be what keeps a process alive.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Adds a fresh entry; its first ping is jittered over one interval so that a reconnect storm does not ping in step. */
  add(entry: T): void {
    const now = this.now();
    entry.lastSeenAt = now;
    entry.nextPingAt = now + Math.ceil(this.options.pingIntervalMs * (0.5 + Math.random() / 2));
    this.place(entry);
  }

  /** Places the entry again after its deadline moved. */
  reschedule(entry: T): void {
    if (entry.slot < 0) return;
    this.remove(entry);
    this.place(entry);
  }

  remove(entry: T): void {
    if (entry.slot >= 0) this.slots[entry.slot]?.delete(entry);
    entry.slot = -1;
  }

  get size(): number {
    return this.slots.reduce((sum, slot) => sum + slot.size, 0);
  }

  /** Visits every slot whose time has come since the last tick (a late timer catches up, it never skips). */
  tick(): void {
    const target = this.tickOf(this.now());
    while (this.cursor <= target) {
      const slot = this.slots[this.cursor % this.slots.length];
      this.cursor++;
      if (!slot || slot.size === 0) continue;
      const due = [...slot];
      slot.clear();
      for (const entry of due) {
        entry.slot = -1;
        this.visit(entry);
      }
    }
  }

  private visit(entry: T): void {
    const now = this.now();
    if (now >= entry.lastSeenAt + this.options.idleTimeoutMs) {
      this.options.expire(entry);
      return;
    }
    if (now >= entry.deadlineAt) {
      const deadlineAt = entry.deadlineAt;
      this.options.deadline?.(entry, now);
      // The callback closed the entry (or left the deadline where it was, which would spin): no new place.
      if (entry.deadlineAt === deadlineAt) return;
    }
    if (now >= entry.nextPingAt) {
      this.options.ping(entry);
      entry.nextPingAt = now + this.options.pingIntervalMs;
    }
    this.place(entry);
  }

  private place(entry: T): void {
    const dueAt = Math.min(entry.nextPingAt, entry.lastSeenAt + this.options.idleTimeoutMs, entry.deadlineAt);
    // Never in the slot being visited or one already passed, or the entry would wait a whole turn.
    const tick = Math.max(this.tickOf(dueAt), this.cursor);
    entry.slot = tick % this.slots.length;
    this.slots[entry.slot]!.add(entry);
  }

  private tickOf(time: number): number {
    return Math.ceil(time / this.tickMs);
  }
}
