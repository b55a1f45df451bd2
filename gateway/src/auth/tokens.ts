import { SignJWT, jwtVerify } from 'jose';
import { protocolLimits } from '@chorus/shared/protocol/limits';

/**
 * Signed session tokens (HS256 JWT, subject = user name). Every gateway shares the secret, so a
 * token issued by one gateway is accepted by all of them.
 */
export class TokenIssuer {
  private readonly key: Uint8Array;

  constructor(secret: string, private readonly ttlSeconds = 24 * 3600) {
    if (secret.length < 16) throw new Error('the token secret must be at least 16 characters');
    this.key = new TextEncoder().encode(secret);
  }

  issue(user: string): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .setIssuer('chorus')
      .sign(this.key);
  }

  /** The user name in a valid token, or undefined for a missing, forged, expired or malformed one. */
  async verify(token: string | null | undefined): Promise<string | undefined> {
    if (!token) return undefined;
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: 'chorus', algorithms: ['HS256'] });
      const user = payload.sub;
      return typeof user === 'string' && protocolLimits.userNamePattern.test(user) ? user : undefined;
    } catch {
      return undefined;
    }
  }
}
