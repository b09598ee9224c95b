import { fail, ok, type Result } from '../result.js';

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** Ten years: a longer token is a typo, and past it the seconds stop being a safe date for `exp`. */
export const MAX_TTL_SECONDS = 3650 * UNIT_SECONDS.d;

const FORMS = 'a whole number and a unit, s, m, h or d (such as 90s, 30m, 1h or 7d)';

/**
 * `herald token --ttl`: how long the token is valid, in seconds. Only a positive whole number and a unit: jose's
 * wider grammar would also take "-5m" or "5m ago" and sign a token that is already expired.
 */
export function parseTtl(text: string): Result<number> {
  const match = /^(\d+)([smhd])$/.exec(text);
  if (match === null) {
    if (/^-\s*\d/.test(text)) return fail(`--ttl ${text} is negative: the token would have expired already; give ${FORMS}`);
    return fail(`--ttl ${JSON.stringify(text)} is not a duration: give ${FORMS}`);
  }
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
  if (seconds === 0) return fail(`--ttl ${text} is zero: the token would have expired already; give ${FORMS}`);
  if (seconds > MAX_TTL_SECONDS) return fail(`--ttl ${text} is longer than 3650d (ten years)`);
  return ok(seconds);
}
