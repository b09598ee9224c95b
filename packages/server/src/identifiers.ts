import Type, { type TString } from 'typebox';
import { Compile } from 'typebox/compile';

/**
 * What an identifier is, wherever one enters Herald: a user id (a token's `sub`, a publish item's or Kafka
 * record's `user_id`), an idempotency key (an item's `id`) and a notification id (mark-read).
 *
 * 1 to 255 characters, counted as Unicode code points (as JSON Schema counts a string's length, so an emoji is one
 * character), none of them a C0 control (U+0000 to U+001F) or a lone UTF-16 surrogate (U+D800 to U+DFFF not
 * paired). Everything else is allowed, U+FFFD and surrogate pairs included.
 *
 * Why those two: they are the values that SQLite and PostgreSQL do not store alike. PostgreSQL's text refuses NUL
 * (a 500 before), SQLite keeps it; both drivers write a lone surrogate as U+FFFD, so `"a\uD800"` would be stored,
 * and looked up, as the different id `"a\uFFFD"` (a token whose `sub` held one read that user's inbox). The other
 * C0 controls are stored by both, but no id needs one and they are what splits log lines and headers, so one
 * range is refused rather than NUL alone. An id that passes is stored and read back unchanged, byte for byte, on
 * either database.
 */
export const MAX_IDENTIFIER_LENGTH = 255;

/**
 * Any character but a C0 control or a surrogate code point. Both validators (TypeBox and Fastify's Ajv) compile
 * patterns with the `u` flag, so a surrogate pair is one code point outside the range and only a lone half is in it.
 */
const IDENTIFIER_PATTERN = '^[^\\u0000-\\u001F\\uD800-\\uDFFF]*$';

/** The schema of an identifier, with what this one identifies for the OpenAPI document. */
export function identifier(description: string): TString {
  return Type.String({ minLength: 1, maxLength: MAX_IDENTIFIER_LENGTH, pattern: IDENTIFIER_PATTERN, description });
}

/** A user id: a token's `sub`, a publish item's or Kafka record's `user_id`. */
export const UserId = identifier('The user: the `sub` of their tokens; 1..255 characters, no control character or lone surrogate');

/** A producer's idempotency key: the same id for the same user is stored and delivered once. */
export const IdempotencyKey = identifier(
  'Idempotency key: the same id for the same user is stored and delivered once; 1..255 characters, no control character or lone surrogate',
);

/** A notification's id, as the inbox lists it. */
export const NotificationId = identifier('A notification id from the inbox');

const CheckIdentifier = Compile(identifier('identifier'));

/** Whether `value` is an identifier by the one rule above (the same check every schema here compiles). */
export function isIdentifier(value: unknown): value is string {
  return CheckIdentifier.Check(value);
}
