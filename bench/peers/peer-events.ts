import { randomUUID } from 'node:crypto';

/** One item of a publish body, as Herald takes it. */
export interface PublishItem {
  user_id: string;
  type: string;
  payload: Record<string, unknown>;
}

export interface BroadcastBody {
  type: string;
  payload: Record<string, unknown>;
}

/**
 * Numbers each user's events and shapes them as Herald's `new_notification` frame carries them (an id, the status
 * fields and the producer's payload), so that the peers put the same bytes on the wire as Herald does. Nothing is
 * stored: that is the difference the benchmark shows.
 */
export class PeerEvents {
  private readonly seqs = new Map<string, number>();

  frame(item: PublishItem): { type: string; seq: number; payload: Record<string, unknown> } {
    const seq = (this.seqs.get(item.user_id) ?? 0) + 1;
    this.seqs.set(item.user_id, seq);
    const notification = {
      id: randomUUID(),
      key: null,
      status: 'unread',
      created_at: new Date().toISOString(),
      read_at: null,
      payload: item.payload,
    };
    return { type: item.type, seq, payload: notification };
  }
}
