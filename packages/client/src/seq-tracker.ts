export type SeqVerdict = 'deliver' | 'duplicate' | 'gap';

/**
 * The client's own check on the stream's order: each user's events carry seq 1, 2, 3, ... Herald already sends
 * each one once and in order per connection; this is the second line across reconnects and nodes.
 */
export class SeqTracker {
  #last: number | undefined;

  constructor(last?: number) {
    this.#last = last;
  }

  /** The last seq delivered to the application, or undefined before the first connection. */
  get last(): number | undefined {
    return this.#last;
  }

  /** The server said where the stream stands (its `connected` or `reset` frame). */
  reset(seq: number): void {
    this.#last = seq;
  }

  /** The stream started again (the user was erased): nothing seen so far counts. */
  forget(): void {
    this.#last = undefined;
  }

  /** Whether the event with `seq` is next (and now delivered), was seen already, or comes after a hole. */
  judge(seq: number): SeqVerdict {
    if (this.#last === undefined || seq === this.#last + 1) {
      this.#last = seq;
      return 'deliver';
    }
    return seq <= this.#last ? 'duplicate' : 'gap';
  }
}
