import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { latch } from './latch.js';

export interface HeldJwks {
  /** The JWKS URL, for HERALD_JWKS_URL. */
  url: string;
  /** An RS256 token for `userId`, signed with the key this endpoint serves. */
  sign(userId: string): Promise<string>;
  /** Resolves when the gateway has asked for the keys (a handshake is now waiting in token verification). */
  keysAsked: Promise<void>;
  /** Answers the waiting request, and every later one at once. */
  release(): void;
  close(): Promise<void>;
}

/**
 * A JWKS endpoint on loopback that answers only once released: the first RS256 handshake a gateway verifies
 * against it stays in flight until the test says so, which makes races with that handshake deterministic.
 */
export async function heldJwks(): Promise<HeldJwks> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'held', alg: 'RS256' };
  const released = latch();
  const asked = latch();
  const server = createServer((_request, response) => {
    asked.open();
    void released.reached.then(() => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [jwk] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`,
    sign: (userId) =>
      new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'held' }).setSubject(userId).setExpirationTime('5m').sign(privateKey),
    keysAsked: asked.reached,
    release: released.open,
    close: async () => {
      released.open();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
