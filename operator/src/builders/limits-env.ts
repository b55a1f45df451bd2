import type { ChatClusterSpec } from '../api/chatcluster-spec.js';

/** Each `spec.limits` field and the variable the gateway or message-service reads it from (docs/limits.md). */
export const limitEnvNames = {
  socketSendsPerSec: 'LIMIT_SOCKET_SENDS_PER_SEC',
  socketSendBurst: 'LIMIT_SOCKET_SEND_BURST',
  userSendsPerSec: 'LIMIT_USER_SENDS_PER_SEC',
  userSendBurst: 'LIMIT_USER_SEND_BURST',
  socketFramesPerSec: 'LIMIT_SOCKET_FRAMES_PER_SEC',
  socketFrameBurst: 'LIMIT_SOCKET_FRAME_BURST',
  socketsPerUser: 'LIMIT_SOCKETS_PER_USER',
  roomsPerSocket: 'MAX_ROOMS_PER_SOCKET',
  roomsCreatedPerHour: 'LIMIT_ROOMS_CREATED_PER_HOUR',
  roomsPerUser: 'LIMIT_ROOMS_PER_USER',
  membersPerRoom: 'LIMIT_MEMBERS_PER_ROOM',
  httpHeadersTimeoutMs: 'HTTP_HEADERS_TIMEOUT_MS',
  httpRequestTimeoutMs: 'HTTP_REQUEST_TIMEOUT_MS',
  httpBodyTimeoutMs: 'HTTP_BODY_TIMEOUT_MS',
  httpMaxBodyBytes: 'HTTP_MAX_BODY_BYTES',
} as const;

/** The limits set in the spec as env for the shared ConfigMap; each service reads its own. */
export function limitsEnv(limits: ChatClusterSpec['limits']): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [field, name] of Object.entries(limitEnvNames)) {
    const value = limits?.[field as keyof typeof limitEnvNames];
    if (value !== undefined) env[name] = String(value);
  }
  return env;
}
