import { ErrorCode, PUBLISHABLE_TYPES } from '@herald/protocol';
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { badRequest, HeraldError } from '../errors.js';
import { fail, ok, type Result } from '../result.js';
import { describeSchemaError } from '../schema-errors.js';
import type { AppendInput } from '../store/store.js';
import { broadcastFrameBytes, eventFrameBytes } from '../transport/frame-size.js';
import { nestedDeeperThan } from './json-depth.js';
import { decodePublishItem, MAX_PAYLOAD_DEPTH, Payload, PublishItem, toAppendInput } from './publish-item.js';

/**
 * What producers send to publish and broadcast, decoded the same way whichever door it comes through: the
 * `POST /publish` and `POST /broadcast` bodies (with `root` "body") and the library's publish and broadcast
 * (with "input"). The schemas below are also what /openapi.json documents for the two routes.
 *
 * What is accepted can be delivered: acceptPublish and acceptBroadcast also refuse an event whose frame would be
 * larger than the slow-consumer bound (HERALD_MAX_BUFFERED_BYTES), which no tab could be sent (413). The shape is
 * judged first, for the whole batch, so a malformed item is named (400) before any size is computed.
 */

/** Items in one publish: one transaction, so a bound on how long one request holds the store. */
export const MAX_PUBLISH_BATCH = 1000;

export const PublishBody = Type.Union([PublishItem, Type.Array(PublishItem, { minItems: 1, maxItems: MAX_PUBLISH_BATCH })]);

/**
 * One item, or an array of 1..MAX_PUBLISH_BATCH items. The first failure is named by its place under `root`
 * (`body must hold at least one item`, `body[2].user_id must be string`), so the union's own verdict, which
 * cannot say which side was meant, is never shown.
 */
export function decodePublishBatch(input: unknown, root: string): Result<PublishItem[]> {
  if (!Array.isArray(input)) {
    const decoded = decodePublishItem(input, root);
    return decoded.ok ? ok([decoded.value]) : decoded;
  }
  if (input.length === 0) return fail(`${root} must hold at least one item`);
  if (input.length > MAX_PUBLISH_BATCH) return fail(`${root} must hold at most ${MAX_PUBLISH_BATCH} items`);
  const items: PublishItem[] = [];
  for (const [index, item] of input.entries()) {
    const decoded = decodePublishItem(item, `${root}[${index}]`);
    if (!decoded.ok) return decoded;
    items.push(decoded.value);
  }
  return ok(items);
}

export const BroadcastBody = Type.Object(
  {
    type: Type.Enum([...PUBLISHABLE_TYPES]),
    payload: Payload,
  },
  { additionalProperties: false },
);

export type Broadcast = Static<typeof BroadcastBody>;

const CheckBroadcast = Compile(BroadcastBody);

/**
 * A frame for every connected user: the schema first, then the payload's depth (the schema does not look into
 * the payload's values, so it cannot recurse on a deep one), `body.payload is nested deeper than 32 levels`.
 */
export function decodeBroadcast(input: unknown, root: string): Result<Broadcast> {
  if (!CheckBroadcast.Check(input)) return fail(describeSchemaError(root, CheckBroadcast.Errors(input)));
  if (nestedDeeperThan(input.payload, MAX_PAYLOAD_DEPTH)) return fail(`${root}.payload is nested deeper than ${MAX_PAYLOAD_DEPTH} levels`);
  return ok(input);
}

/**
 * The store's inputs for a publish, or the error that refuses it whole (nothing of a refused batch is stored): a
 * malformed body (400, as decodePublishBatch names it), or an item whose frame would be over `maxFrameBytes`
 * (413, naming the item: `body[3]`, or `body` for a single item).
 */
export function acceptPublish(input: unknown, root: string, maxFrameBytes: number): Result<AppendInput[], HeraldError> {
  const decoded = decodePublishBatch(input, root);
  if (!decoded.ok) return fail(badRequest(decoded.error));
  const single = !Array.isArray(input);
  const inputs: AppendInput[] = [];
  for (const [index, item] of decoded.value.entries()) {
    const fits = fitsOneFrame(toAppendInput(item), single ? root : `${root}[${index}]`, maxFrameBytes);
    if (!fits.ok) return fits;
    inputs.push(fits.value);
  }
  return ok(inputs);
}

/** A broadcast, or the error that refuses it: malformed (400), or a frame over `maxFrameBytes` (413). */
export function acceptBroadcast(input: unknown, root: string, maxFrameBytes: number): Result<Broadcast, HeraldError> {
  const decoded = decodeBroadcast(input, root);
  if (!decoded.ok) return fail(badRequest(decoded.error));
  const { type, payload } = decoded.value;
  const bytes = measured(() => broadcastFrameBytes(type, payload), root);
  if (!bytes.ok) return bytes;
  if (bytes.value > maxFrameBytes) return fail(tooLarge(`${root} is too large to deliver: its frame would be ${bytes.value} bytes`, maxFrameBytes));
  return ok(decoded.value);
}

/**
 * `input` as it is when the frame that delivers it fits under `maxFrameBytes` (counted with the longest seq, so
 * it fits whatever seq it gets); otherwise the 413 naming `place`. Kafka records go through here too.
 */
export function fitsOneFrame(input: AppendInput, place: string, maxFrameBytes: number): Result<AppendInput, HeraldError> {
  const bytes = measured(() => eventFrameBytes(input), place);
  if (!bytes.ok) return bytes;
  if (bytes.value > maxFrameBytes) return fail(tooLarge(`${place} is too large to deliver: its frame would be up to ${bytes.value} bytes`, maxFrameBytes));
  return ok(input);
}

function tooLarge(what: string, maxFrameBytes: number): HeraldError {
  return new HeraldError(ErrorCode.PayloadTooLarge, `${what}, over HERALD_MAX_BUFFERED_BYTES (${maxFrameBytes}), the most a tab may be sent at once`);
}

/**
 * A frame's size, or a 400 for a payload JSON cannot write: only a library caller can pass one (a BigInt). It is
 * the caller's mistake, told as such, rather than a TypeError from inside the store's transaction.
 */
function measured(size: () => number, place: string): Result<number, HeraldError> {
  try {
    return ok(size());
  } catch (error) {
    return fail(badRequest(`${place}.payload cannot be written as JSON: ${(error as Error).message}`));
  }
}
