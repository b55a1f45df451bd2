/** Limits of the client wire protocol; the gateway enforces them before anything else runs. */
export const protocolLimits = {
  /** Largest WebSocket frame the gateway accepts (bytes). Overridable by MAX_FRAME_BYTES. */
  maxFrameBytes: 64 * 1024,
  /** Longest message text (characters). */
  maxTextChars: 4000,
  /** Room ids are NATS subject tokens, so they stay within this alphabet. */
  roomIdPattern: /^[A-Za-z0-9_-]{1,64}$/,
  userNamePattern: /^[A-Za-z0-9_.-]{1,32}$/,
  /** Longest token (a JWT) a client may present, in the subprotocol header or a refresh frame. */
  maxTokenChars: 8192,
  clientMsgIdMaxChars: 64,
  maxHistoryLimit: 200,
  defaultHistoryLimit: 50,
} as const;
