import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { ErrorCode } from '@herald/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerToken, createTokenVerifier, type TokenVerifierOptions } from '../../src/auth/token-verifier.js';
import { hs256, nowS } from '../helpers/hs256.js';
import { acceptedIdentifiers, refusedIdentifiers } from '../http/identifier-forms.js';

const SECRET = 'a-secret-for-the-token-verifier-unit-tests!';
const secretOnly: TokenVerifierOptions = { jwtSecret: SECRET, clockToleranceS: 0 };

let jwksServer: Server;
let jwksUrl: string;
let rsa: { privateKey: CryptoKey; publicKey: CryptoKey };

beforeAll(async () => {
  rsa = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256' };
  jwksServer = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
});
afterAll(() => new Promise<void>((resolve) => jwksServer.close(() => resolve())));

function rs256(claims: Record<string, unknown>, kid = 'rsa-1'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(rsa.privateKey);
}

/** The rejection of `verifying`, as code and message: it must be an `unauthorized` HeraldError. */
async function refusal(verifying: Promise<unknown>): Promise<{ code: unknown; message: string }> {
  const error = await verifying.then(
    () => {
      throw new Error('the token was accepted');
    },
    (error: unknown) => error as { code: unknown; message: string },
  );
  return { code: error.code, message: error.message };
}

const unauthorized = (message: string) => ({ code: ErrorCode.Unauthorized, message });

describe('createTokenVerifier with a shared secret', () => {
  it('names the user and the expiry of a good token', async () => {
    const verify = createTokenVerifier(secretOnly);
    const exp = nowS() + 60;
    expect(await verify(await hs256({ sub: 'alice', exp }, SECRET))).toEqual({ userId: 'alice', expiresAt: exp });
  });

  it('refuses a missing or empty token', async () => {
    const verify = createTokenVerifier(secretOnly);
    expect(await refusal(verify(undefined))).toEqual(unauthorized('Missing token'));
    expect(await refusal(verify(''))).toEqual(unauthorized('Missing token'));
  });

  it('refuses a token over 8 KiB before parsing it, and parses one of exactly 8 KiB', async () => {
    const verify = createTokenVerifier(secretOnly);
    expect(await refusal(verify('x'.repeat(8 * 1024 + 1)))).toEqual(unauthorized('Token too large'));
    expect(await refusal(verify('x'.repeat(8 * 1024)))).toEqual(unauthorized('Token is malformed'));
  });

  it('refuses an expired token, within the clock tolerance it accepts it', async () => {
    const token = await hs256({ sub: 'alice', exp: nowS() - 30 }, SECRET);
    expect(await refusal(createTokenVerifier(secretOnly)(token))).toEqual(unauthorized('Token expired'));
    expect((await createTokenVerifier({ ...secretOnly, clockToleranceS: 120 })(token)).userId).toBe('alice');
  });

  it('checks the issuer and the audience when configured', async () => {
    const verify = createTokenVerifier({ ...secretOnly, issuer: 'https://id.example', audience: 'herald' });
    const exp = nowS() + 60;
    const good = await hs256({ sub: 'alice', iss: 'https://id.example', aud: 'herald', exp }, SECRET);
    expect((await verify(good)).userId).toBe('alice');
    const wrongIssuer = await hs256({ sub: 'alice', iss: 'https://evil.example', aud: 'herald', exp }, SECRET);
    expect(await refusal(verify(wrongIssuer))).toEqual(unauthorized('Token claim "iss" is invalid'));
    const wrongAudience = await hs256({ sub: 'alice', iss: 'https://id.example', aud: 'other', exp }, SECRET);
    expect(await refusal(verify(wrongAudience))).toEqual(unauthorized('Token claim "aud" is invalid'));
  });

  it('refuses a token signed with another secret', async () => {
    const token = await hs256({ sub: 'alice', exp: nowS() + 60 }, 'another-secret-of-enough-length-for-hs256!');
    expect(await refusal(createTokenVerifier(secretOnly)(token))).toEqual(unauthorized('Token signature is invalid'));
  });

  it('refuses an asymmetric token when only a secret is configured, and alg none always', async () => {
    const verify = createTokenVerifier(secretOnly);
    expect(await refusal(verify(await rs256({ sub: 'alice', exp: nowS() + 60 })))).toEqual(unauthorized('Token algorithm is not allowed'));
    const claims = JSON.stringify({ sub: 'alice', exp: nowS() + 60 });
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(claims).toString('base64url')}.`;
    expect(await refusal(verify(none))).toEqual(unauthorized('Token algorithm is not allowed'));
  });

  it('refuses garbage as malformed', async () => {
    expect(await refusal(createTokenVerifier(secretOnly)('not.a.token'))).toEqual(unauthorized('Token is malformed'));
  });

  it('wants a sub of 1 to 255 characters', async () => {
    const verify = createTokenVerifier(secretOnly);
    const noSub = unauthorized('Token has no usable sub claim');
    const exp = nowS() + 60;
    expect(await refusal(verify(await hs256({ exp }, SECRET)))).toEqual(noSub);
    expect(await refusal(verify(await hs256({ sub: '', exp }, SECRET)))).toEqual(noSub);
    expect(await refusal(verify(await hs256({ sub: 'x'.repeat(256), exp }, SECRET)))).toEqual(noSub);
    expect((await verify(await hs256({ sub: 'x'.repeat(255), exp }, SECRET))).userId).toBe('x'.repeat(255));
    expect((await verify(await hs256({ sub: 'x', exp }, SECRET))).userId).toBe('x');
  });

  it('wants a sub that is an identifier: no C0 control, no lone surrogate, 255 characters counted as code points', async () => {
    const verify = createTokenVerifier(secretOnly);
    const exp = nowS() + 60;
    for (const { name, value } of refusedIdentifiers) {
      const refused = await refusal(verify(await hs256({ sub: value, exp }, SECRET)));
      expect({ name, ...refused }).toEqual({ name, ...unauthorized('Token has no usable sub claim') });
    }
    for (const { name, value } of acceptedIdentifiers) {
      const { userId } = await verify(await hs256({ sub: value, exp }, SECRET));
      expect({ name, userId }).toEqual({ name, userId: value });
    }
    // The same rule for a key from the JWKS: the sub is checked after any signature.
    const asymmetric = createTokenVerifier({ jwksUrl, clockToleranceS: 0 });
    expect(await refusal(asymmetric(await rs256({ sub: 'al\u0000ice', exp })))).toEqual(unauthorized('Token has no usable sub claim'));
    expect((await asymmetric(await rs256({ sub: '😀'.repeat(255), exp }))).userId).toBe('😀'.repeat(255));
  });

  it('keeps the cause of a refusal', async () => {
    const token = await hs256({ sub: 'alice', exp: nowS() - 30 }, SECRET);
    const error = await createTokenVerifier(secretOnly)(token).catch((error: unknown) => error as Error);
    expect((error as Error).cause).toBeInstanceOf(Error);
  });
});

describe('createTokenVerifier with a JWKS', () => {
  it('accepts a token signed by a published key', async () => {
    const verify = createTokenVerifier({ jwksUrl, clockToleranceS: 0 });
    expect(await verify(await rs256({ sub: 'carol', exp: nowS() + 60 }))).toMatchObject({ userId: 'carol' });
  });

  it('refuses an HS256 token when no secret is configured', async () => {
    const verify = createTokenVerifier({ jwksUrl, clockToleranceS: 0 });
    expect(await refusal(verify(await hs256({ sub: 'carol', exp: nowS() + 60 }, SECRET)))).toEqual(unauthorized('Token algorithm is not allowed'));
  });

  it('refuses a token whose key is not published', async () => {
    const verify = createTokenVerifier({ jwksUrl, clockToleranceS: 0 });
    expect(await refusal(verify(await rs256({ sub: 'carol', exp: nowS() + 60 }, 'unknown-kid')))).toEqual(unauthorized('Token key is unknown'));
  });

  it('takes each family from its own key source when both are configured', async () => {
    const verify = createTokenVerifier({ jwtSecret: SECRET, jwksUrl, clockToleranceS: 0 });
    expect((await verify(await rs256({ sub: 'dave', exp: nowS() + 60 }))).userId).toBe('dave');
    expect((await verify(await hs256({ sub: 'erin', exp: nowS() + 60 }, SECRET))).userId).toBe('erin');
  });

  it('cannot be built without a secret or a JWKS', () => {
    expect(() => createTokenVerifier({ clockToleranceS: 0 })).toThrow('A token verifier needs a JWT secret or a JWKS URL');
    expect(() => createTokenVerifier({ jwtSecret: '', jwksUrl: '', clockToleranceS: 0 })).toThrow('A token verifier needs a JWT secret or a JWKS URL');
  });
});

describe('createTokenVerifier with a JWKS of every supported algorithm', () => {
  const SUPPORTED = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const;
  let server: Server;
  let url: string;
  const signers = new Map<string, CryptoKey>();

  beforeAll(async () => {
    const keys: Record<string, unknown>[] = [];
    for (const alg of SUPPORTED) {
      const pair = await generateKeyPair(alg, { extractable: true });
      signers.set(alg, pair.privateKey);
      keys.push({ ...(await exportJWK(pair.publicKey)), kid: `key-${alg}`, alg });
    }
    server = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it.each(SUPPORTED)('accepts %s signed by its published key, beside the shared secret', async (alg) => {
    const verify = createTokenVerifier({ jwtSecret: SECRET, jwksUrl: url, clockToleranceS: 0 });
    const token = await new SignJWT({ sub: `user-${alg}`, exp: nowS() + 60 })
      .setProtectedHeader({ alg, kid: `key-${alg}` })
      .sign(signers.get(alg)!);
    expect((await verify(token)).userId).toBe(`user-${alg}`);
  });

  it('refuses ES512, which Herald does not list, even with a published key', async () => {
    const pair = await generateKeyPair('ES512');
    const token = await new SignJWT({ sub: 'mallory', exp: nowS() + 60 }).setProtectedHeader({ alg: 'ES512', kid: 'key-ES256' }).sign(pair.privateKey);
    const verify = createTokenVerifier({ jwksUrl: url, clockToleranceS: 0 });
    expect(await refusal(verify(token))).toEqual(unauthorized('Token algorithm is not allowed'));
  });
});

describe('createTokenVerifier and the exp claim (HERALD_JWT_REQUIRE_EXP)', () => {
  const noExp = unauthorized('Token has no exp claim');

  it('refuses a token without exp by default, HS256 and RS256 alike', async () => {
    const verify = createTokenVerifier({ jwtSecret: SECRET, jwksUrl, clockToleranceS: 0 });
    expect(await refusal(verify(await hs256({ sub: 'alice' }, SECRET)))).toEqual(noExp);
    expect(await refusal(verify(await hs256({ sub: 'alice', iat: nowS() }, SECRET)))).toEqual(noExp);
    expect(await refusal(verify(await rs256({ sub: 'alice', iat: nowS() })))).toEqual(noExp);
    // requireExp: true says the same as leaving it out.
    const explicit = createTokenVerifier({ ...secretOnly, requireExp: true });
    expect(await refusal(explicit(await hs256({ sub: 'alice' }, SECRET)))).toEqual(noExp);
  });

  it('checks the signature before the claims: a forged token without exp is a bad signature', async () => {
    const token = await hs256({ sub: 'alice' }, 'another-secret-of-enough-length-for-hs256!');
    expect(await refusal(createTokenVerifier(secretOnly)(token))).toEqual(unauthorized('Token signature is invalid'));
  });

  it('refuses an exp that is not a number, whether or not exp is required', async () => {
    for (const requireExp of [true, false]) {
      const verify = createTokenVerifier({ ...secretOnly, requireExp });
      for (const exp of [null, 'tomorrow', String(nowS() + 60)]) {
        expect(await refusal(verify(await hs256({ sub: 'alice', exp }, SECRET)))).toEqual(unauthorized('Token claim "exp" is invalid'));
      }
    }
  });

  it('with requireExp false, accepts a token without exp, which then has no expiry', async () => {
    const verify = createTokenVerifier({ jwtSecret: SECRET, jwksUrl, clockToleranceS: 0, requireExp: false });
    expect(await verify(await hs256({ sub: 'bob' }, SECRET))).toEqual({ userId: 'bob', expiresAt: undefined });
    expect(await verify(await rs256({ sub: 'carol' }))).toEqual({ userId: 'carol', expiresAt: undefined });
    // An exp, when there is one, is still checked.
    expect(await refusal(verify(await hs256({ sub: 'bob', exp: nowS() - 30 }, SECRET)))).toEqual(unauthorized('Token expired'));
  });
});

describe('createTokenVerifier with a maximum lifetime (HERALD_JWT_MAX_TTL_S)', () => {
  const maxTtlS = 3600;
  // A function: jwksUrl is known only once beforeAll has run.
  const bounded = (): TokenVerifierOptions => ({ jwtSecret: SECRET, jwksUrl, clockToleranceS: 5, maxTtlS });
  const over = unauthorized('Token lifetime exceeds HERALD_JWT_MAX_TTL_S');

  it('accepts a lifetime of exactly the limit and refuses one second more, HS256 and RS256 alike', async () => {
    const verify = createTokenVerifier(bounded());
    const iat = nowS();
    for (const sign of [(claims: Record<string, unknown>) => hs256(claims, SECRET), rs256]) {
      expect(await verify(await sign({ sub: 'alice', iat, exp: iat + maxTtlS }))).toEqual({ userId: 'alice', expiresAt: iat + maxTtlS });
      expect(await refusal(verify(await sign({ sub: 'alice', iat, exp: iat + maxTtlS + 1 })))).toEqual(over);
      // Fractional NumericDates are allowed by RFC 7519; half a second over is over.
      expect(await refusal(verify(await sign({ sub: 'alice', iat, exp: iat + maxTtlS + 0.5 })))).toEqual(over);
    }
  });

  it('measures exp - iat, not the time left: an old token within its lifetime passes, the clock tolerance adds nothing', async () => {
    const verify = createTokenVerifier({ ...bounded(), clockToleranceS: 120 });
    const now = nowS();
    expect((await verify(await hs256({ sub: 'alice', iat: now - 3000, exp: now + 600 }, SECRET))).userId).toBe('alice');
    // 1 s over, and 120 s of tolerance do not cover it.
    expect(await refusal(verify(await hs256({ sub: 'alice', iat: now - 3000, exp: now + 601 }, SECRET)))).toEqual(over);
  });

  it('refuses a token with exp but no iat: its lifetime cannot be checked', async () => {
    const verify = createTokenVerifier(bounded());
    const noIat = unauthorized('Token has no iat claim, so its lifetime cannot be checked');
    expect(await refusal(verify(await hs256({ sub: 'alice', exp: nowS() + 60 }, SECRET)))).toEqual(noIat);
    expect(await refusal(verify(await rs256({ sub: 'alice', exp: nowS() + 60 })))).toEqual(noIat);
    // Without the limit the same token is fine.
    expect((await createTokenVerifier(secretOnly)(await hs256({ sub: 'alice', exp: nowS() + 60 }, SECRET))).userId).toBe('alice');
  });

  it('refuses an iat past the clock tolerance in the future, which would stretch the real lifetime', async () => {
    const verify = createTokenVerifier(bounded());
    const later = nowS() + 86_400;
    expect(await refusal(verify(await hs256({ sub: 'alice', iat: later, exp: later + 60 }, SECRET)))).toEqual(
      unauthorized('Token iat is in the future'),
    );
    // Within the tolerance (5 s) it is clock skew, and accepted.
    const skewed = nowS() + 3;
    expect((await verify(await hs256({ sub: 'alice', iat: skewed, exp: skewed + 60 }, SECRET))).userId).toBe('alice');
    expect(await refusal(verify(await hs256({ sub: 'alice', iat: 'now', exp: nowS() + 60 }, SECRET)))).toEqual(
      unauthorized('Token claim "iat" is invalid'),
    );
  });

  it('needs an exp even when requireExp is false', async () => {
    const verify = createTokenVerifier({ ...bounded(), requireExp: false });
    expect(await refusal(verify(await hs256({ sub: 'alice', iat: nowS() }, SECRET)))).toEqual(unauthorized('Token has no exp claim'));
  });
});

describe('bearerToken', () => {
  it('takes the token of a Bearer header, in any case and spacing', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('Bearer    abc   ')).toBe('abc');
    expect(bearerToken('BEARER\tabc')).toBe('abc');
  });

  it('has nothing for another form', () => {
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken(['Bearer abc'])).toBeUndefined();
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken('Bearerabc')).toBeUndefined();
    expect(bearerToken('xBearer abc')).toBeUndefined();
    expect(bearerToken('Bearer abc x')).toBeUndefined();
  });
});
