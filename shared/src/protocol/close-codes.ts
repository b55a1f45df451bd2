/**
 * WebSocket close codes the gateway uses besides the standard ones (1001 going away, 1009 too
 * large, 1013 slow consumer). 4000-4999 are for applications (RFC 6455 section 7.4.2).
 */
export const closeCodes = {
  /**
   * Standard 1012 "service restart": the gateway is draining and closed this socket after its
   * sends were answered (the client did not leave by the `reconnect` frame's delay). Reconnect to
   * another gateway at once and resume with `after`.
   */
  draining: 1012,
  /** The token's `exp` passed and no `refresh` frame brought a new one. */
  tokenExpired: 4001,
  /** The user or the token id was revoked. */
  tokenRevoked: 4002,
  /** The user already has LIMIT_SOCKETS_PER_USER sockets open (docs/limits.md). */
  tooManySockets: 4429,
} as const;
