import { fail, ok, type Result } from '../result.js';
import type { AppendInput } from '../store/store.js';
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
 */
export function decodeKafkaRecord(record: RecordLike, maxRecordBytes: number): Result<AppendInput> {
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
  return ok(toAppendInput(decoded.value, `kafka:${record.topic}/${record.partition}/${record.offset}`));
}

/** A record that cannot be stored, with the reason its dead-letter copy carries. */
export interface DeadRecord<R extends RecordLike = RecordLike> {
  record: R;
  reason: string;
}

/** Splits a batch into what is stored (in the batch's order) and what is dead-lettered. */
export function sortBatch<R extends RecordLike>(batch: readonly R[], maxRecordBytes: number): { inputs: AppendInput[]; dead: DeadRecord<R>[] } {
  const inputs: AppendInput[] = [];
  const dead: DeadRecord<R>[] = [];
  for (const record of batch) {
    const decoded = decodeKafkaRecord(record, maxRecordBytes);
    if (decoded.ok) inputs.push(decoded.value);
    else dead.push({ record, reason: decoded.error });
  }
  return { inputs, dead };
}
