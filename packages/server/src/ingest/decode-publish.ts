import { PUBLISHABLE_TYPES } from '@herald/protocol';
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { fail, ok, type Result } from '../result.js';
import { describeSchemaError } from '../schema-errors.js';
import { nestedDeeperThan } from './json-depth.js';
import { decodePublishItem, MAX_PAYLOAD_DEPTH, Payload, PublishItem } from './publish-item.js';

/**
 * What producers send to publish and broadcast, decoded the same way whichever door it comes through: the
 * `POST /publish` and `POST /broadcast` bodies (with `root` "body") and the library's publish and broadcast
 * (with "input"). The schemas below are also what /openapi.json documents for the two routes.
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
