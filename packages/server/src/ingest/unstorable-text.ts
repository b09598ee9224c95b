/**
 * What in a JSON value no database of Herald's stores as given, or undefined when there is nothing: a NUL
 * character, or a lone UTF-16 surrogate, in any string or object key. PostgreSQL's jsonb refuses both
 * (`\u0000` is an "unsupported Unicode escape sequence", an unpaired surrogate escape is invalid), so an item
 * holding one would be stored on SQLite and refused on PostgreSQL; it is refused at the edge on both, with the
 * reason, and a Kafka record holding one is dead-lettered instead of failing its transaction.
 *
 * Iterative, like nestedDeeperThan, which has bounded the depth already.
 */
export function unstorableText(value: unknown): string | undefined {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current === 'string') {
      const found = unstorableIn(current);
      if (found !== undefined) return found;
    } else if (Array.isArray(current)) {
      stack.push(...current);
    } else if (typeof current === 'object' && current !== null) {
      // Keys, then each value looked up: Object.entries made an array for every pair of every item's payload.
      const object = current as Record<string, unknown>;
      for (const key of Object.keys(object)) {
        const found = unstorableIn(key);
        if (found !== undefined) return found;
        stack.push(object[key]);
      }
    }
  }
  return undefined;
}

function unstorableIn(text: string): string | undefined {
  if (text.includes('\u0000')) return 'a NUL character (U+0000)';
  if (!text.isWellFormed()) return 'a lone surrogate (U+D800 to U+DFFF unpaired)';
  return undefined;
}
