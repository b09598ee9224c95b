import { fail, ok, type Result } from '../result.js';
import type { AppendInput } from '../store/store.js';
import { FRAME_OVERHEAD_BYTES } from '../transport/frame-size.js';
import { fitsOneFrame } from './decode-publish.js';
import { decodePublishItem, toAppendInput } from './publish-item.js';

/** The parts of a Kafka record that decoding looks at. */
export interface RecordLike {
  topic: string;
  partition: number;
  offset: bigint;
  key: Buffer | null | undefined;
  value: Buffer | null | undefined;
}

/**
 * Decodes a record whose value is one `POST /publish` item. A value over `maxRecordBytes` (the same bound as a
 * REST body, HERALD_MAX_BODY_BYTES) is refused before JSON.parse spends time on it. Without an `id`, the
 * record's own coordinates (topic/partition/offset) are the idempotency key, so a record consumed twice (after a
 * crash, before its offset was committed, or across a rebalance) is stored and delivered once.
 *
 * A record whose frame would be over `maxFrameBytes` (HERALD_MAX_BUFFERED_BYTES; the key counts, its coordinates
 * too) is refused as an HTTP item would be, since no tab could be sent it. Left out, it is the smallest bound
 * start-up allows beside this record limit: whatever the configured bound, what it lets through fits in a frame.
 */
export function decodeKafkaRecord(
  record: RecordLike,
  maxRecordBytes: number,
  maxFrameBytes = maxRecordBytes + FRAME_OVERHEAD_BYTES,
): Result<AppendInput> {
  if (!record.value || record.value.length === 0) return fail('value is empty');
  if (record.value.length > maxRecordBytes) return fail(`value is larger than ${maxRecordBytes} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(record.value.toString('utf8'));
  } catch {
    return fail('value is not valid JSON');
  }
  const decoded = decodePublishItem(value, 'value');
  if (!decoded.ok) return decoded;
  const input = toAppendInput(decoded.value, `kafka:${record.topic}/${record.partition}/${record.offset}`);
  const fits = fitsOneFrame(input, 'value', maxFrameBytes);
  return fits.ok ? ok(input) : fail(fits.error.message);
}

/** A record that cannot be stored, with the reason its dead-letter copy carries. */
export interface DeadRecord<R extends RecordLike = RecordLike> {
  record: R;
  reason: string;
}

/** Splits a batch into what is stored (in the batch's order) and what is dead-lettered; the bounds as decodeKafkaRecord's. */
export function sortBatch<R extends RecordLike>(
  batch: readonly R[],
  maxRecordBytes: number,
  maxFrameBytes = maxRecordBytes + FRAME_OVERHEAD_BYTES,
): { inputs: AppendInput[]; dead: DeadRecord<R>[] } {
  const inputs: AppendInput[] = [];
  const dead: DeadRecord<R>[] = [];
  for (const record of batch) {
    const decoded = decodeKafkaRecord(record, maxRecordBytes, maxFrameBytes);
    if (decoded.ok) inputs.push(decoded.value);
    else dead.push({ record, reason: decoded.error });
  }
  return { inputs, dead };
}
