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

export type DecodedRecord = { ok: true; input: AppendInput } | { ok: false; reason: string };

/** Far above any notification; a larger value is refused before JSON.parse spends time on it. */
const MAX_VALUE_BYTES = 1024 * 1024;

/**
 * Decodes a record whose value is one `POST /publish` item. Without an `id`, the record's own coordinates
 * (topic/partition/offset) are the idempotency key, so a record consumed twice (after a crash, before its offset
 * was committed, or across a rebalance) is stored and delivered once.
 */
export function decodeKafkaRecord(record: RecordLike): DecodedRecord {
  if (!record.value || record.value.length === 0) return { ok: false, reason: 'value is empty' };
  if (record.value.length > MAX_VALUE_BYTES) return { ok: false, reason: `value is larger than ${MAX_VALUE_BYTES} bytes` };
  let value: unknown;
  try {
    value = JSON.parse(record.value.toString('utf8'));
  } catch {
    return { ok: false, reason: 'value is not valid JSON' };
  }
  const decoded = decodePublishItem(value, 'value');
  if (!decoded.ok) return { ok: false, reason: decoded.message };
  return { ok: true, input: toAppendInput(decoded.item, `kafka:${record.topic}/${record.partition}/${record.offset}`) };
}
