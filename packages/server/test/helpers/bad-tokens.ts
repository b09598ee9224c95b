import { TEST_SECRET } from './gateway.js';
import { hs256, nowS } from './hs256.js';

/**
 * Tokens for `userId` that Herald must refuse, each named by what is wrong with it: absent, not a JWT, expired
 * (well past the clock tolerance), signed with another secret, and unsigned (alg none).
 */
export async function badTokens(userId: string): Promise<Array<{ name: string; token: string | undefined }>> {
  const now = nowS();
  const sign = (secret: string, exp: number) => hs256({ sub: userId, iat: exp - 3600, exp }, secret);
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return [
    { name: 'missing', token: undefined },
    { name: 'garbage', token: 'not-a-jwt' },
    { name: 'expired', token: await sign(TEST_SECRET, now - 3600) },
    { name: 'wrongly signed', token: await sign('another-secret-that-is-long-enough-for-hs256', now + 3600) },
    { name: 'alg none', token: `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: userId, exp: now + 3600 })}.` },
  ];
}
