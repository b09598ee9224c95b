import { webcrypto } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey, type JWTPayload } from 'jose';
import { unauthorized, type HeraldError } from '../errors.js';
import { isIdentifier } from '../identifiers.js';

export interface VerifiedToken {
  userId: string;
  /** Seconds since the epoch, when the token has an expiry. */
  expiresAt?: number;
}

/** Verifies a bearer token and names its user; rejects with an `unauthorized` HeraldError. */
export type TokenVerifier = (token: string | undefined) => Promise<VerifiedToken>;

export interface TokenVerifierOptions {
  jwtSecret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  clockToleranceS: number;
  /** Refuse a token without `exp` (true unless said otherwise): it would keep a socket open for ever. */
  requireExp?: boolean;
  /** When set, the most seconds from `iat` to `exp`; a token without `iat`, or with one in the future, is refused. */
  maxTtlS?: number;
}

const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'];
/** Far above any real JWT; checked before any parsing so an oversized token costs nothing. */
const MAX_TOKEN_LENGTH = 8 * 1024;

/**
 * Builds the verifier from the configured keys. Each algorithm family is bound to its own key source: HS256 only
 * with the shared secret, the asymmetric ones only with the JWKS, so that a token cannot pick a public key as
 * an HMAC secret; `alg: none` is never accepted.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  // Imported once: handed raw bytes, jose imports a key on every verification, which was most of its cost in
  // a connect storm (4-6k tokens/s against 12k/s with the key imported once, on one core here).
  const secret = options.jwtSecret ? hmacKey(options.jwtSecret) : undefined;
  const jwks = options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl)) : undefined;
  const algorithms = [...(secret ? ['HS256'] : []), ...(jwks ? ASYMMETRIC_ALGORITHMS : [])];
  if (algorithms.length === 0) throw new Error('A token verifier needs a JWT secret or a JWKS URL');

  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (header.alg === 'HS256' && secret) return secret;
    if (header.alg !== 'HS256' && jwks) return jwks(header, token);
    throw new errors.JOSEAlgNotAllowed('unexpected algorithm');
  };

  const requiredClaims = options.requireExp === false ? [] : ['exp'];
  return async (token) => {
    if (!token) throw unauthorized('Missing token');
    if (token.length > MAX_TOKEN_LENGTH) throw unauthorized('Token too large');
    let payload: JWTPayload;
    try {
      // jose checks the claims only after the signature, and that exp and iat, when present, are numbers.
      ({ payload } = await jwtVerify(token, getKey, {
        algorithms,
        issuer: options.issuer,
        audience: options.audience,
        clockTolerance: options.clockToleranceS,
        requiredClaims,
      }));
    } catch (error) {
      throw describeFailure(error);
    }
    if (options.maxTtlS !== undefined) checkLifetime(payload, options.maxTtlS, options.clockToleranceS);
    const userId = payload.sub;
    // The same rule as a publish item's user_id: a sub that the database would store as another id (a lone
    // surrogate becomes U+FFFD) must not name that other user's inbox.
    if (!isIdentifier(userId)) throw unauthorized('Token has no usable sub claim');
    return { userId, expiresAt: payload.exp };
  };
}

/**
 * The lifetime is `exp - iat` as the issuer wrote them, so the clock tolerance plays no part in it. An `iat` in
 * the future would stretch the real lifetime (from now to `exp`) past the bound while `exp - iat` stays within it.
 */
function checkLifetime(payload: JWTPayload, maxTtlS: number, clockToleranceS: number): void {
  const { iat, exp } = payload;
  if (exp === undefined) throw unauthorized('Token has no exp claim');
  if (iat === undefined) throw unauthorized('Token has no iat claim, so its lifetime cannot be checked');
  if (iat > Date.now() / 1000 + clockToleranceS) throw unauthorized('Token iat is in the future');
  if (exp - iat > maxTtlS) throw unauthorized('Token lifetime exceeds HERALD_JWT_MAX_TTL_S');
}

function hmacKey(secret: string): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
}

function describeFailure(error: unknown): HeraldError {
  if (error instanceof errors.JWTExpired) return unauthorized('Token expired', error);
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'exp' && error.reason === 'missing') {
    return unauthorized('Token has no exp claim', error);
  }
  if (error instanceof errors.JWTClaimValidationFailed) return unauthorized(`Token claim "${error.claim}" is invalid`, error);
  if (error instanceof errors.JWSSignatureVerificationFailed) return unauthorized('Token signature is invalid', error);
  if (error instanceof errors.JOSEAlgNotAllowed) return unauthorized('Token algorithm is not allowed', error);
  if (error instanceof errors.JWKSNoMatchingKey) return unauthorized('Token key is unknown', error);
  return unauthorized('Token is malformed', error);
}

/** The token from `Authorization: Bearer <token>`, if the header has that form. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
