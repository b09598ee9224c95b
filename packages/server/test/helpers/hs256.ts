import { SignJWT } from 'jose';
import { TEST_SECRET } from './gateway.js';

/** Seconds since the epoch, as JWT claims count time. */
export const nowS = (): number => Math.floor(Date.now() / 1000);

/** An HS256 token with exactly the claims given (no sub or exp unless `claims` has them). */
export function hs256(claims: Record<string, unknown>, secret = TEST_SECRET): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}
