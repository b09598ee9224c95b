import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiKeyMatches } from '../src/auth/api-key.js';

describe('the publish key comparison', () => {
  const key = 'publish-key-0123456789abcdef';

  it('matches only the exact key: not a prefix, an extension, another case or an empty string', () => {
    expect(apiKeyMatches(key, key)).toBe(true);
    for (const presented of [key.slice(0, -1), `${key}x`, key.toUpperCase(), '', undefined, 'x'.repeat(10_000)]) {
      expect(apiKeyMatches(key, presented)).toBe(false);
    }
  });

  it('compares fixed-length digests in constant time, so neither the content nor the length of a guess shows in timing', () => {
    // A timing test would be flaky on a shared machine; the defence is the construction, so that is what is checked.
    const source = readFileSync(new URL('../src/auth/api-key.ts', import.meta.url), 'utf8');
    expect(source).toMatch(/timingSafeEqual\(/);
    expect(source).toMatch(/createHash\('sha256'\)/);
    expect(source).not.toMatch(/expected\s*===?\s*presented|presented\s*===?\s*expected/);
  });
});
