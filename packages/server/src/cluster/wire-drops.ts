import type { Logger } from 'pino';
import type { WireRejection } from './wire.js';

/** A reason of the decoder, or a well-formed message that came on a channel it does not belong to. */
export type DropReason = WireRejection['reason'] | 'wrong channel';

/**
 * The messages from other nodes that a receiver dropped. The first drop of each reason is a warning (a peer of
 * another version, or something else publishing on Herald's channels); the rest are counted and logged at debug,
 * so that a flood of bad messages cannot flood the log. The message itself is never logged: it may carry a
 * notification's payload.
 */
export class WireDrops {
  private readonly counts = new Map<DropReason, number>();

  constructor(
    private readonly logger: Logger,
    /** Which receiver: 'broker' or 'presence'. */
    private readonly receiver: string,
  ) {}

  drop(reason: DropReason, detail: string, channel: string): void {
    const count = (this.counts.get(reason) ?? 0) + 1;
    this.counts.set(reason, count);
    const fields = { receiver: this.receiver, reason, detail, channel, dropped: count };
    if (count === 1) this.logger.warn(fields, 'dropping a malformed message from another node (logged once per reason)');
    else this.logger.debug(fields, 'dropping a malformed message from another node');
  }

  /** How many messages were dropped for `reason`. */
  count(reason: DropReason): number {
    return this.counts.get(reason) ?? 0;
  }
}
