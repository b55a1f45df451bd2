import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { protocolLimits } from '@chorus/shared/protocol/limits';
import type { TokenVerifier, VerifiedToken } from './verified-token.js';

export const asymmetricAlgorithms = ['RS256', 'ES256'] as const;

export interface JwtVerifierOptions {
  /** HS256 key shared with the application's backend (at least 32 characters). */
  hs256Secret?: string;
  /** RS256/ES256 public keys; fetched on demand, cached, and fetched again for an unknown `kid`. */
  jwksUrl?: URL;
  /** Aborts one JWKS fetch after this long (a hung identity provider must not hang connects). */
  jwksTimeoutMs?: number;
  /** Least time between two JWKS fetches caused by unknown `kid`s (bounds a flood of forged kids). */
  jwksCooldownMs?: number;
  issuer: string;
  audience: string;
  /** The claim holding the user id (default `sub`). */
  userClaim?: string;
  /** Accepted difference between the issuer's clock and ours, for exp/nbf/iat (seconds). */
  clockToleranceSeconds?: number;
  /**
   * Longest accepted lifetime (exp - iat, or exp - now without iat). It bounds how long a
   * revocation entry must be kept: every token issued before it has expired by then.
   */
  maxLifetimeSeconds: number;
}

const tokenIdMaxChars = 128;

/**
 * Verifies tokens the gateway did not issue: HS256 with a shared secret and/or RS256/ES256 from a
 * JWKS URL. `iss`, `aud` and `exp` are required, `nbf` is checked when present, and the user id
 * must match the protocol's user-name pattern.
 */
export class JwtVerifier implements TokenVerifier {
  private readonly getKey: JWTVerifyGetKey;
  private readonly algorithms: string[];

  constructor(private readonly options: JwtVerifierOptions) {
    const secret = options.hs256Secret ? new TextEncoder().encode(options.hs256Secret) : undefined;
    const jwks = options.jwksUrl
      ? createRemoteJWKSet(options.jwksUrl, {
          timeoutDuration: options.jwksTimeoutMs ?? 5_000,
          cooldownDuration: options.jwksCooldownMs ?? 30_000,
          cacheMaxAge: 10 * 60_000,
        })
      : undefined;
    if (!secret && !jwks) throw new Error('a JWT verifier needs an HS256 secret, a JWKS URL, or both');
    this.algorithms = [...(secret ? ['HS256'] : []), ...(jwks ? asymmetricAlgorithms : [])];
    // The key follows the header's alg, which jwtVerify has already checked against `algorithms`:
    // an HS256 token can never be checked against a JWKS public key used as an HMAC secret.
    this.getKey = async (header, token) => {
      if (header.alg === 'HS256' && secret) return secret;
      if (jwks) return jwks(header, token);
      throw new errors.JOSEAlgNotAllowed('algorithm not allowed');
    };
  }

  async verify(token: string): Promise<{ ok: true; token: VerifiedToken } | { ok: false; reason: string }> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.getKey, {
        algorithms: this.algorithms,
        issuer: this.options.issuer,
        audience: this.options.audience,
        requiredClaims: ['exp'],
        clockTolerance: this.options.clockToleranceSeconds ?? 30,
      }));
    } catch (error) {
      return { ok: false, reason: describe(error) };
    }
    return acceptClaims(payload, this.options.userClaim ?? 'sub', this.options.maxLifetimeSeconds);
  }
}

/** The claims jose does not check: user id, jti shape, lifetime. */
export function acceptClaims(payload: JWTPayload, userClaim: string, maxLifetimeSeconds: number): { ok: true; token: VerifiedToken } | { ok: false; reason: string } {
  const user = payload[userClaim];
  if (typeof user !== 'string' || !protocolLimits.userNamePattern.test(user)) {
    return { ok: false, reason: `claim ${userClaim} must be 1-32 characters of A-Z a-z 0-9 _ . -` };
  }
  const exp = payload.exp as number;
  const iat = typeof payload.iat === 'number' ? payload.iat : undefined;
  if (exp - (iat ?? Date.now() / 1000) > maxLifetimeSeconds) {
    return { ok: false, reason: `token lifetime exceeds ${maxLifetimeSeconds} s` };
  }
  if (payload.jti !== undefined && (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > tokenIdMaxChars)) {
    return { ok: false, reason: `jti must be a string of 1-${tokenIdMaxChars} characters` };
  }
  return {
    ok: true,
    token: { user, expiresAt: exp, ...(iat !== undefined && { issuedAt: iat }), ...(payload.jti !== undefined && { tokenId: payload.jti }) },
  };
}

function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `claim ${error.claim} ${error.reason}`;
  if (error instanceof errors.JWKSTimeout) return 'the JWKS endpoint did not answer in time';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no JWKS key matches the token';
  if (error instanceof errors.JOSEError) return error.code;
  return 'malformed token';
}
