import fc from 'fast-check';

/**
 * The forms of identifier (user id, idempotency key, notification id) that every door of Herald must take or
 * refuse alike, on SQLite and PostgreSQL: see src/identifiers.ts for the rule. Shared by the tests of each door.
 */
export interface IdentifierForm {
  name: string;
  value: string;
}

const hex = (code: number) => `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;

/** Every C0 control but NUL (which has its own three forms), in the middle of an id. */
const c0Controls: IdentifierForm[] = Array.from({ length: 0x1f }, (_, index) => {
  const code = index + 1;
  return { name: `${hex(code)} in the middle`, value: `ab${String.fromCharCode(code)}cd` };
});

/** Refused: outside 1..255 characters, a C0 control anywhere, or a UTF-16 surrogate without its other half. */
export const refusedIdentifiers: readonly IdentifierForm[] = [
  { name: 'empty', value: '' },
  { name: '256 characters', value: 'x'.repeat(256) },
  { name: '256 emoji (512 UTF-16 units)', value: '😀'.repeat(256) },
  { name: 'NUL at the start', value: '\u0000alice' },
  { name: 'NUL in the middle', value: 'al\u0000ice' },
  { name: 'NUL at the end', value: 'alice\u0000' },
  { name: 'NUL alone', value: '\u0000' },
  ...c0Controls,
  { name: 'a lone high surrogate at the start', value: '\uD83Dalice' },
  { name: 'a lone high surrogate in the middle', value: 'al\uD83Dice' },
  { name: 'a lone high surrogate at the end', value: 'alice\uD83D' },
  { name: 'a lone low surrogate at the start', value: '\uDE00alice' },
  { name: 'a lone low surrogate in the middle', value: 'al\uDE00ice' },
  { name: 'a lone low surrogate at the end', value: 'alice\uDE00' },
  { name: 'a pair in the wrong order', value: 'a\uDE00\uD83Dz' },
  { name: 'two high surrogates', value: '\uD83D\uD83D' },
  { name: 'an emoji with a lone high surrogate after it', value: '😀\uD83D' },
];

/** Taken, and stored and read back unchanged on both databases. */
export const acceptedIdentifiers: readonly IdentifierForm[] = [
  { name: 'plain', value: 'alice' },
  { name: 'one character', value: 'x' },
  { name: 'U+FFFD alone', value: '\uFFFD' },
  { name: 'U+FFFD where a lone surrogate would be', value: 'al\uFFFDice' },
  { name: 'an emoji (a surrogate pair)', value: '😀' },
  { name: 'emoji at the start, middle and end', value: '😀a👩‍💻b🇫🇷' },
  { name: '255 characters', value: 'x'.repeat(255) },
  { name: '255 emoji (510 UTF-16 units)', value: '😀'.repeat(255) },
  { name: 'U+007F (DEL, not a C0 control)', value: 'ab\u007Fcd' },
  { name: 'U+0085 (a C1 control)', value: 'ab\u0085cd' },
  { name: 'a space', value: 'a b' },
  { name: 'quotes and a backslash', value: `a"b'c\\d` },
  { name: 'letters of other scripts, combining marks', value: 'Zoë-Zoe\u0308-عربي-日本' },
  { name: 'U+E000 and U+FFFF', value: '\uE000\uFFFF' },
];

/**
 * What an identifier is, written by hand over UTF-16 units rather than with the pattern the code compiles: 1..255
 * code points, no unit below U+0020, every surrogate half in a high-low pair.
 */
export function isIdentifierByHand(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  let characters = 0;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit < 0x20) return false;
    if (unit >= 0xdc00 && unit <= 0xdfff) return false;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(index + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      index++;
    }
    characters++;
  }
  return characters >= 1 && characters <= 255;
}

/** Characters near the rule's edges, so short strings of them hit every case often. */
const edgeUnits = fc.constantFrom('a', 'Z', '\u0000', '\u0001', '\u001F', ' ', '\u007F', '\u0085', '\uD83D', '\uDE00', '\uFFFD', '😀', 'é');

/** Strings an identifier might be: any UTF-16 units, the edge characters, lengths around 255 in units and in code points. */
export const identifierLike: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.string({ unit: edgeUnits, minLength: 0, maxLength: 6 }),
  fc.string({ minLength: 254, maxLength: 256 }),
  fc.string({ unit: fc.constantFrom('😀', 'x'), minLength: 254, maxLength: 256 }),
  fc.constantFrom(...refusedIdentifiers, ...acceptedIdentifiers).map((form) => form.value),
);
