import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares a presented publish key with the configured one in constant time. Both are hashed first so the
 * comparison takes the same time whatever the presented length is.
 */
export function apiKeyMatches(expected: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(presented).digest();
  return timingSafeEqual(a, b);
}
