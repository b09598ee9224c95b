import type { Clock } from '../src/clock.js';

interface Timer {
  id: number;
  at: number;
  delay: number;
  callback: () => void;
}

/** A clock that moves only when the test says so, recording every delay the client asked for. */
export class FakeClock implements Clock {
  private time: number;
  private nextId = 1;
  private timers: Timer[] = [];

  /** `start`: the time it shows first, in ms since the epoch (0 unless a test needs dates). */
  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { id: this.nextId++, at: this.time + ms, delay: ms, callback };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  }

  /** Delays of the timers still pending, soonest first. */
  get pending(): number[] {
    return [...this.timers].sort((a, b) => a.at - b.at).map((timer) => timer.delay);
  }

  /** Moves to the soonest pending timer and runs it. */
  runNext(): void {
    const next = [...this.timers].sort((a, b) => a.at - b.at)[0];
    if (next === undefined) throw new Error('no timer pending');
    this.timers = this.timers.filter((timer) => timer !== next);
    this.time = next.at;
    next.callback();
  }
}
