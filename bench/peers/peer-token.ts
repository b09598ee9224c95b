import { jwtVerify } from 'jose';
import { BENCH_SECRET } from '../herald-process.js';

const key = new TextEncoder().encode(process.env['PEER_JWT_SECRET'] ?? BENCH_SECRET);

/**
 * The same check Herald makes on an upgrade: an HS256 signature (the algorithm pinned), an unexpired token and a
 * subject, which is the user id. Resolves with the user id, or undefined for any token that fails.
 */
export async function verifyUserId(token: string | undefined | null): Promise<string | undefined> {
  if (!token) return undefined;
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], clockTolerance: 5 });
    return typeof payload.sub === 'string' && payload.sub.length > 0 ? payload.sub : undefined;
  } catch {
    return undefined;
  }
}
