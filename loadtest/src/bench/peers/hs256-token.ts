import { SignJWT } from 'jose';

/**
 * Connection tokens for the peers: HS256 JWTs with the user as `sub`, as Centrifugo's
 * `client.token.hmac_secret_key` expects and as the Socket.IO peer checks. One key per run.
 */
export class Hs256Tokens {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  sign(user: string): Promise<string> {
    return new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(user).setIssuedAt().setExpirationTime('6h').sign(this.key);
  }
}
