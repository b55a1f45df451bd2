import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { JwtVerifier } from './jwt-verifier.js';
import type { TokenVerifier, VerifiedToken } from './verified-token.js';

export interface DevTokenIssuerOptions {
  /** HS256 key every gateway of the platform shares, so a dev token works on all of them. */
  secret: string;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  clockToleranceSeconds?: number;
}

/**
 * Dev mode only: the gateway itself issues a token for any user name (no password). It verifies
 * them with the same rules as production tokens (iss, aud, exp required).
 */
export class DevTokenIssuer implements TokenVerifier {
  private readonly key: Uint8Array;
  private readonly verifier: JwtVerifier;

  constructor(private readonly options: DevTokenIssuerOptions) {
    this.key = new TextEncoder().encode(options.secret);
    this.verifier = new JwtVerifier({
      hs256Secret: options.secret,
      issuer: options.issuer,
      audience: options.audience,
      maxLifetimeSeconds: options.ttlSeconds,
      ...(options.clockToleranceSeconds !== undefined && { clockToleranceSeconds: options.clockToleranceSeconds }),
    });
  }

  get ttlSeconds(): number {
    return this.options.ttlSeconds;
  }

  issue(user: string): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(`${this.options.ttlSeconds}s`)
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .sign(this.key);
  }

  verify(token: string): Promise<{ ok: true; token: VerifiedToken } | { ok: false; reason: string }> {
    return this.verifier.verify(token);
  }
}
