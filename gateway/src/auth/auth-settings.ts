import { DevTokenIssuer, type DevTokenIssuerOptions } from './dev-token-issuer.js';
import { JwtVerifier, type JwtVerifierOptions } from './jwt-verifier.js';
import type { TokenVerifier } from './verified-token.js';

/**
 * How a gateway knows who a client is. `dev`: it issues tokens itself to anyone for any name
 * (POST /api/login). `jwt`: it only verifies tokens issued by the application's backend or an
 * identity provider, and has no login of its own.
 */
export type AuthSettings = ({ mode: 'dev' } & DevTokenIssuerOptions) | ({ mode: 'jwt' } & JwtVerifierOptions);

export interface Authentication {
  verifier: TokenVerifier;
  /** Only in dev mode. */
  devIssuer?: DevTokenIssuer;
  clockToleranceSeconds: number;
  /** Longest lifetime of an accepted token: how long revocation entries are kept. */
  maxLifetimeSeconds: number;
}

export const defaultClockToleranceSeconds = 30;

export function createAuthentication(settings: AuthSettings): Authentication {
  const clockToleranceSeconds = settings.clockToleranceSeconds ?? defaultClockToleranceSeconds;
  if (settings.mode === 'dev') {
    const devIssuer = new DevTokenIssuer({ ...settings, clockToleranceSeconds });
    return { verifier: devIssuer, devIssuer, clockToleranceSeconds, maxLifetimeSeconds: settings.ttlSeconds };
  }
  return { verifier: new JwtVerifier({ ...settings, clockToleranceSeconds }), clockToleranceSeconds, maxLifetimeSeconds: settings.maxLifetimeSeconds };
}
