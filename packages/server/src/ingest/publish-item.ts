import { PUBLISHABLE_TYPES } from '@herald/protocol';
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { IdempotencyKey, UserId } from '../identifiers.js';
import { fail, ok, type Result } from '../result.js';
import { describeSchemaError } from '../schema-errors.js';
import { nestedDeeperThan } from './json-depth.js';
import { Actions, Category, ExpiresAt, inboxFieldsOf, TtlSeconds } from './inbox-fields.js';
import { unstorableText } from './unstorable-text.js';
import type { AppendInput } from '../store/store.js';

/** What a producer attaches to an event: any JSON object, stored and delivered as is (an inbox item's payload too). */
export const Payload = Type.Record(Type.String(), Type.Unknown(), { description: "The producer's JSON object, delivered as is" });

/** Far deeper than any notification needs; deeper values would make storing and sending them recurse without end. */
export const MAX_PAYLOAD_DEPTH = 32;

/**
 * What a producer hands Herald, by any ingest: one item of `POST /publish` or of the library's publish, or the
 * value of one Kafka record. One schema decodes them all, so every door accepts exactly the same events.
 */
export const PublishItem = Type.Object(
  {
    // Both are identifiers (identifiers.ts): what the two databases store alike, so no item is a 500 on one of them.
    user_id: UserId,
    type: Type.Enum([...PUBLISHABLE_TYPES]),
    payload: Payload,
    id: Type.Optional(IdempotencyKey),
    category: Type.Optional(Category),
    expires_at: Type.Optional(ExpiresAt),
    ttl_s: Type.Optional(TtlSeconds),
    actions: Type.Optional(Actions),
  },
  { additionalProperties: false },
);

export type PublishItem = Static<typeof PublishItem>;

const CheckPublishItem = Compile(PublishItem);

/** Checks one item; a failure names the field under `root` (e.g. `body[2].user_id must be string`). */
export function decodePublishItem(value: unknown, root: string): Result<PublishItem> {
  // Checked first: the schema check itself walks the value recursively. The item is one level above its payload.
  if (nestedDeeperThan(value, MAX_PAYLOAD_DEPTH + 1)) return fail(`${root} is nested deeper than ${MAX_PAYLOAD_DEPTH} levels`);
  if (!CheckPublishItem.Check(value)) return fail(describeSchemaError(root, CheckPublishItem.Errors(value)));
  const fields = inboxFieldsOf(value, root);
  if (!fields.ok) return fields;
  for (const field of ['payload', 'actions'] as const) {
    const found = unstorableText(value[field]);
    if (found !== undefined) return fail(`${root}.${field} holds a string with ${found}, which Herald cannot store`);
  }
  return ok(value);
}

/** The store's input for an item; `fallbackKey` makes an item without `id` idempotent too (Kafka's offset). */
export function toAppendInput(item: PublishItem, fallbackKey: string | null = null, now = Date.now()): AppendInput {
  const input: AppendInput = { userId: item.user_id, type: item.type, payload: item.payload, key: item.id ?? fallbackKey };
  if (item.category !== undefined) input.category = item.category;
  if (item.actions !== undefined) input.actions = item.actions;
  if (item.expires_at !== undefined) input.expiresAt = new Date(item.expires_at).toISOString();
  else if (item.ttl_s !== undefined) input.expiresAt = new Date(now + item.ttl_s * 1000).toISOString();
  return input;
}
