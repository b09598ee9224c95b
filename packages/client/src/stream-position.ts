import type { ConnectedFrame } from '@herald/protocol';
import { SeqTracker } from './seq-tracker.js';

/** What to do with a stream event: hand it on, drop it as seen, ask Herald to replay a gap, or wait for that replay. */
export type StreamVerdict = 'deliver' | 'duplicate' | 'resume' | 'wait';

/**
 * Where the user's stream stands across connections: the last seq delivered (the next connection resumes after
 * it), whose stream it is, and when a replay of a gap was last asked for.
 */
export class StreamPosition {
  readonly #tracker: SeqTracker;
  readonly #resumeRetryMs: number;
  #userId: string | undefined;
  #resumeAskedAt: number | undefined;

  constructor(since: number | undefined, resumeRetryMs: number) {
    this.#tracker = new SeqTracker(since);
    this.#resumeRetryMs = resumeRetryMs;
  }

  get last(): number | undefined {
    return this.#tracker.last;
  }

  get userId(): string | undefined {
    return this.#userId;
  }

  /** A connection opened where Herald's `connected` says; returns whether it continues the stream seen so far. */
  connected(payload: ConnectedFrame['payload']): boolean {
    const sameUser = this.#userId === undefined || this.#userId === payload.user_id;
    const asked = this.#tracker.last;
    // A different user's stream shares nothing with the old one: start at its head, and let the replay of the
    // old seq range fall away as duplicates.
    this.#tracker.reset(sameUser ? payload.since : payload.seq);
    this.#userId = payload.user_id;
    this.#resumeAskedAt = undefined;
    return sameUser && asked !== undefined && payload.since === asked;
  }

  /**
   * Herald could not replay from where this connection asked (a `reset` frame): the next event is `seq` + 1, and
   * an earlier request for a gap's replay is moot.
   */
  reset(seq: number): void {
    this.#tracker.reset(seq);
    this.#resumeAskedAt = undefined;
  }

  /**
   * The user's stream was erased and starts again at seq 1: the next connection asks for no replay, and is taken
   * as a new stream, not a continuation.
   */
  erased(): void {
    this.#tracker.forget();
    this.#resumeAskedAt = undefined;
  }

  judge(seq: number, now: number): StreamVerdict {
    switch (this.#tracker.judge(seq)) {
      case 'deliver':
        this.#resumeAskedAt = undefined;
        return 'deliver';
      case 'duplicate':
        return 'duplicate';
      case 'gap':
        // Herald replays from the store after `since`; until it does, later events wait their turn there.
        if (this.#resumeAskedAt !== undefined && now - this.#resumeAskedAt < this.#resumeRetryMs) return 'wait';
        this.#resumeAskedAt = now;
        return 'resume';
    }
  }
}
