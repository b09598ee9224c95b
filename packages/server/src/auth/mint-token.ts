import { SignJWT } from 'jose';

/** Signs an HS256 token for `userId`; `ttl` is a jose time span such as "1h" or "30m". */
export async function mintToken(secret: string, userId: string, ttl = '1h'): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(ttl)
    .sign(new TextEncoder().encode(secret));
}
