/** What the gateway keeps of a token it accepted. */
export interface VerifiedToken {
  user: string;
  /** The `jti` claim, when the issuer sets one: lets an admin revoke this one token. */
  tokenId?: string;
  /** The `iat` claim in seconds, when present: a user revocation ends the tokens issued up to it. */
  issuedAt?: number;
  /** The `exp` claim in seconds (every accepted token has one). */
  expiresAt: number;
}

export interface TokenVerifier {
  /** The token's identity, or why it was refused (for logs and the HTTP answer, never the token). */
  verify(token: string): Promise<{ ok: true; token: VerifiedToken } | { ok: false; reason: string }>;
}
