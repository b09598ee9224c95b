import { eventRows } from '../store/event-rows.js';
import type { AppendInput } from '../store/store.js';
import { encodeBroadcast, encodeEvent } from './encode.js';

/**
 * How large a frame will be before it is made, so that ingest can refuse what no tab could take: a connection is
 * closed as a slow consumer when its unsent data would pass HERALD_MAX_BUFFERED_BYTES (Connection.send), so a
 * frame over that bound on its own closes every tab it is sent to, on every reconnect.
 *
 * Each size is the encoders' own frame for the item with an empty payload, plus the payload's JSON in UTF-8
 * bytes. The frame holds the payload as JSON.stringify writes it (the store and encodeBroadcast both use it), so
 * the parts that vary (type, key, payload, with their escapes and multi-byte characters) count exactly as sent,
 * and the figure follows encode.ts and event-rows.ts if a frame's shape changes.
 */

/** The longest seq a stream can number exactly (Number.MAX_SAFE_INTEGER, 16 digits); a real one is never longer. */
const LONGEST_SEQ = Number.MAX_SAFE_INTEGER;

/** A timestamp as batchTimestamp writes it: toISOString gives 24 characters for every year from 0 to 9999. */
const A_TIMESTAMP = new Date(0).toISOString();

const EMPTY_PAYLOAD_BYTES = Buffer.byteLength(JSON.stringify({}));

/**
 * The most bytes a frame adds to the item it delivers, rounded up: a new_notification's wrapper (its type, a
 * 16-digit seq, the notification's id, status and timestamps: about 200 bytes) and a key the item does not carry
 * itself (the `kafka:topic/partition/offset` of a Kafka record without `id`: at most 288 bytes). Start-up requires
 * HERALD_MAX_BUFFERED_BYTES to be at least HERALD_MAX_BODY_BYTES plus this (config.ts), so an item that fits in a
 * body, written as JSON.stringify writes it, always fits in one frame.
 */
export const FRAME_OVERHEAD_BYTES = 1024;

/**
 * The UTF-8 bytes of `payload`'s JSON. Throws what JSON.stringify throws (a BigInt, from a library caller); the
 * decoders check depth first, so a cycle never gets here.
 */
export function payloadBytes(payload: Record<string, unknown>): number {
  return Buffer.byteLength(JSON.stringify(payload), 'utf8');
}

/**
 * The size of the frame that will deliver `input` once it is stored, as an upper bound: exact but for the seq,
 * which is counted at 16 digits (a notification's id is a UUID and its timestamps have a fixed length).
 */
export function eventFrameBytes(input: AppendInput): number {
  const { event } = eventRows({ ...input, payload: {} }, LONGEST_SEQ, A_TIMESTAMP);
  return encodeEvent(event).length - EMPTY_PAYLOAD_BYTES + payloadBytes(input.payload);
}

/** The exact size of the broadcast frame of `type` and `payload`. */
export function broadcastFrameBytes(type: string, payload: Record<string, unknown>): number {
  return encodeBroadcast({ type, payload: {} }).length - EMPTY_PAYLOAD_BYTES + payloadBytes(payload);
}
