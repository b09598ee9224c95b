import { SignJWT } from 'jose';
import { TEST_SECRET } from './gateway.js';

/**
 * Tokens for `userId` that Herald must refuse, each named by what is wrong with it: absent, not a JWT, expired
 * (well past the clock tolerance), signed with another secret, and unsigned (alg none).
 */
export async function badTokens(userId: string): Promise<Array<{ name: string; token: string | undefined }>> {
  const now = Math.floor(Date.now() / 1000);
  const sign = (secret: string, exp: number) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setIssuedAt(exp - 3600)
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(secret));
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return [
    { name: 'missing', token: undefined },
    { name: 'garbage', token: 'not-a-jwt' },
    { name: 'expired', token: await sign(TEST_SECRET, now - 3600) },
    { name: 'wrongly signed', token: await sign('another-secret-that-is-long-enough-for-hs256', now + 3600) },
    { name: 'alg none', token: `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: userId, exp: now + 3600 })}.` },
  ];
}
