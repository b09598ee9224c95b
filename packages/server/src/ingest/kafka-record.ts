import type { KafkaFormat } from '../config.js';
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
  headers?: Map<Buffer, Buffer> | undefined;
}

/** The headers HERALD_KAFKA_FORMAT=headers reads. */
export const RECORD_HEADERS = { userId: 'herald-user-id', type: 'herald-type', id: 'herald-id' } as const;

const DEFAULT_HEADERS_TYPE = 'new_notification';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a record into what is stored. With the `json` format (the default) its value is one `POST /publish`
 * item; with `headers`, a record of a topic that was not made for Herald: the user id is the key (or the
 * herald-user-id header), the type and id come from headers, and the value is the payload. Either way the
 * result goes through the one publish-item schema, so every door accepts exactly the same events.
 *
 * A value over `maxRecordBytes` (the same bound as a REST body, HERALD_MAX_BODY_BYTES) is refused before
 * JSON.parse spends time on it. Without an id, the record's own coordinates (topic/partition/offset) are the
 * idempotency key, so a record consumed twice (after a crash, before its offset was committed, or across a
 * rebalance) is stored and delivered once.
 *
 * A record whose frame would be over `maxFrameBytes` (HERALD_MAX_BUFFERED_BYTES; the key counts, its coordinates
 * too) is refused as an HTTP item would be, since no tab could be sent it. Left out, it is the smallest bound
 * start-up allows beside this record limit: whatever the configured bound, what it lets through fits in a frame.
 */
export function decodeKafkaRecord(
  record: RecordLike,
  maxRecordBytes: number,
  maxFrameBytes = maxRecordBytes + FRAME_OVERHEAD_BYTES,
  format: KafkaFormat = 'json',
): Result<AppendInput> {
  if (!record.value || record.value.length === 0) return fail('value is empty');
  if (record.value.length > maxRecordBytes) return fail(`value is larger than ${maxRecordBytes} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(record.value.toString('utf8'));
  } catch {
    return fail('value is not valid JSON');
  }
  const item = format === 'headers' ? itemFromHeaders(record, value) : ok(value);
  if (!item.ok) return item;
  const decoded = decodePublishItem(item.value, format === 'headers' ? 'record' : 'value');
  if (!decoded.ok) return decoded;
  const input = toAppendInput(decoded.value, `kafka:${record.topic}/${record.partition}/${record.offset}`);
  const fits = fitsOneFrame(input, 'value', maxFrameBytes);
  return fits.ok ? ok(input) : fail(fits.error.message);
}

/**
 * The publish item a `headers`-format record stands for. Only what the record lacks or carries in the wrong
 * form is refused here (no user id, a header that is not UTF-8, a value that is not an object); the item's
 * fields are then checked by the schema as any other item's are.
 */
function itemFromHeaders(record: RecordLike, value: unknown): Result<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('value must be a JSON object (the payload)');
  const headers = readHeaders(record.headers);
  if (!headers.ok) return headers;
  const { [RECORD_HEADERS.userId]: userHeader, [RECORD_HEADERS.type]: type, [RECORD_HEADERS.id]: id } = headers.value;
  let userId = userHeader;
  if (userId === undefined && record.key && record.key.length > 0) {
    const key = decodeUtf8(record.key);
    if (key === undefined) return fail('key is not valid UTF-8');
    userId = key;
  }
  if (userId === undefined) return fail(`record has no user id: neither a key nor a ${RECORD_HEADERS.userId} header`);
  return ok({ user_id: userId, type: type ?? DEFAULT_HEADERS_TYPE, payload: value, ...(id !== undefined && { id }) });
}

/** The first value of each header Herald reads, as text; other headers are left alone. */
function readHeaders(headers: Map<Buffer, Buffer> | undefined): Result<Partial<Record<string, string>>> {
  const found: Partial<Record<string, string>> = {};
  const wanted = new Set<string>(Object.values(RECORD_HEADERS));
  for (const [rawName, rawValue] of headers ?? []) {
    const name = decodeUtf8(rawName);
    if (name === undefined || !wanted.has(name) || found[name] !== undefined) continue;
    const text = decodeUtf8(rawValue);
    if (text === undefined) return fail(`header ${name} is not valid UTF-8`);
    found[name] = text;
  }
  return ok(found);
}

function decodeUtf8(bytes: Buffer | null | undefined): string | undefined {
  try {
    return utf8.decode(bytes ?? Buffer.alloc(0));
  } catch {
    return undefined;
  }
}

/** A record that cannot be stored, with the reason its dead-letter copy carries. */
export interface DeadRecord<R extends RecordLike = RecordLike> {
  record: R;
  reason: string;
}

/** A record that decoded, beside what it is stored as. */
export interface AcceptedRecord<R extends RecordLike = RecordLike> {
  record: R;
  input: AppendInput;
}

/** Splits a batch into what is stored (in the batch's order) and what is dead-lettered; the bounds as decodeKafkaRecord's. */
export function sortBatch<R extends RecordLike>(
  batch: readonly R[],
  maxRecordBytes: number,
  maxFrameBytes = maxRecordBytes + FRAME_OVERHEAD_BYTES,
  format: KafkaFormat = 'json',
): { accepted: AcceptedRecord<R>[]; dead: DeadRecord<R>[] } {
  const accepted: AcceptedRecord<R>[] = [];
  const dead: DeadRecord<R>[] = [];
  for (const record of batch) {
    const decoded = decodeKafkaRecord(record, maxRecordBytes, maxFrameBytes, format);
    if (decoded.ok) accepted.push({ record, input: decoded.value });
    else dead.push({ record, reason: decoded.error });
  }
  return { accepted, dead };
}
