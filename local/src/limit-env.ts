/**
 * The services' abuse-limit variables (docs/limits.md). The platform passes them to every gateway
 * and message-service; each service validates its own and ignores the others.
 */
export const limitEnvNames = [
  'LIMIT_SOCKET_SENDS_PER_SEC',
  'LIMIT_SOCKET_SEND_BURST',
  'LIMIT_USER_SENDS_PER_SEC',
  'LIMIT_USER_SEND_BURST',
  'LIMIT_SOCKET_FRAMES_PER_SEC',
  'LIMIT_SOCKET_FRAME_BURST',
  'LIMIT_SOCKETS_PER_USER',
  'MAX_ROOMS_PER_SOCKET',
  'HTTP_HEADERS_TIMEOUT_MS',
  'HTTP_REQUEST_TIMEOUT_MS',
  'HTTP_BODY_TIMEOUT_MS',
  'HTTP_MAX_BODY_BYTES',
  'LIMIT_ROOMS_CREATED_PER_HOUR',
  'LIMIT_ROOMS_PER_USER',
  'LIMIT_MEMBERS_PER_ROOM',
] as const;

export type LimitEnv = Partial<Record<(typeof limitEnvNames)[number], number>>;

/**
 * Send rates for runs that push thousands of messages through one socket at once (ordering and
 * crash tests, the benchmark's saturation search): high enough never to refuse one. Never a
 * production setting.
 */
export const bulkSendLimits: LimitEnv = {
  LIMIT_SOCKET_SENDS_PER_SEC: 100_000,
  LIMIT_SOCKET_SEND_BURST: 100_000,
  LIMIT_USER_SENDS_PER_SEC: 100_000,
  LIMIT_USER_SEND_BURST: 100_000,
};

export function limitEnv(limits: LimitEnv = {}): Record<string, string> {
  return Object.fromEntries(Object.entries(limits).map(([name, value]) => [name, String(value)]));
}
