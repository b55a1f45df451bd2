import { z } from 'zod';
import { envFields, readEnv } from '@chorus/shared/config/env';
import { createLogger } from '@chorus/shared/logging/logger';
import { startTelemetry } from '@chorus/shared/telemetry/tracing';
import { exitGracefullyOnSignals, exitOnStartFailure } from '@chorus/shared/lifecycle/graceful-shutdown';
import { startGateway } from './gateway.js';
import { defaultGatewayLimits, type GatewayLimitOverrides } from './limits/gateway-limits.js';

/** A positive rate or count from the environment; absent = the default in limits/gateway-limits.ts. */
const limit = (max: number) => z.coerce.number().positive().max(max).optional();
const whole = (min: number, max: number) => z.coerce.number().int().min(min).max(max).optional();

const envSchema = z.object({
  PORT: envFields.port(8080),
  /** Also listen here, shared with the other gateways of a cluster primary (npm start's one address). */
  SHARED_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  /** 0.0.0.0 in a pod; loopback by default so a local run is never reachable from outside. */
  HOST: envFields.host,
  NATS_URL: envFields.natsUrl,
  REDIS_URL: z.string().min(1).default('redis://127.0.0.1:6379'),
  CHORUS_TOKEN_SECRET: z.string().min(16, 'CHORUS_TOKEN_SECRET must be at least 16 characters (a Secret in Kubernetes)'),
  GATEWAY_ID: z.string().min(1).optional(),
  MAX_FRAME_BYTES: z.coerce.number().int().min(1024).max(16 * 1024 * 1024).optional(),
  /** Server ping period; a socket that misses a ping is closed (ms). */
  PING_INTERVAL_MS: z.coerce.number().int().min(500).max(600_000).optional(),
  /** Abuse limits (docs/limits.md): token buckets (rate per second, burst), socket and HTTP caps. */
  LIMIT_SOCKET_SENDS_PER_SEC: limit(100_000),
  LIMIT_SOCKET_SEND_BURST: whole(1, 1_000_000),
  LIMIT_USER_SENDS_PER_SEC: limit(100_000),
  LIMIT_USER_SEND_BURST: whole(1, 1_000_000),
  LIMIT_SOCKET_FRAMES_PER_SEC: limit(100_000),
  LIMIT_SOCKET_FRAME_BURST: whole(1, 1_000_000),
  LIMIT_SOCKETS_PER_USER: whole(1, 100_000),
  MAX_ROOMS_PER_SOCKET: whole(1, 100_000),
  HTTP_HEADERS_TIMEOUT_MS: whole(100, 600_000),
  HTTP_REQUEST_TIMEOUT_MS: whole(100, 600_000),
  HTTP_BODY_TIMEOUT_MS: whole(100, 600_000),
  HTTP_MAX_BODY_BYTES: whole(64, 16 * 1024 * 1024),
});

type Env = z.infer<typeof envSchema>;

function limitsFrom(env: Env): GatewayLimitOverrides {
  const d = defaultGatewayLimits;
  return {
    socketSends: { ratePerSec: env.LIMIT_SOCKET_SENDS_PER_SEC ?? d.socketSends.ratePerSec, burst: env.LIMIT_SOCKET_SEND_BURST ?? d.socketSends.burst },
    userSends: { ratePerSec: env.LIMIT_USER_SENDS_PER_SEC ?? d.userSends.ratePerSec, burst: env.LIMIT_USER_SEND_BURST ?? d.userSends.burst },
    socketFrames: { ratePerSec: env.LIMIT_SOCKET_FRAMES_PER_SEC ?? d.socketFrames.ratePerSec, burst: env.LIMIT_SOCKET_FRAME_BURST ?? d.socketFrames.burst },
    ...(env.LIMIT_SOCKETS_PER_USER !== undefined && { socketsPerUser: env.LIMIT_SOCKETS_PER_USER }),
    http: {
      ...(env.HTTP_HEADERS_TIMEOUT_MS !== undefined && { headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS }),
      ...(env.HTTP_REQUEST_TIMEOUT_MS !== undefined && { requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS }),
      ...(env.HTTP_BODY_TIMEOUT_MS !== undefined && { bodyTimeoutMs: env.HTTP_BODY_TIMEOUT_MS }),
      ...(env.HTTP_MAX_BODY_BYTES !== undefined && { maxBodyBytes: env.HTTP_MAX_BODY_BYTES }),
    },
  };
}

async function main(): Promise<void> {
  const env = readEnv(envSchema);
  const log = createLogger('gateway', env.GATEWAY_ID ? { gateway: env.GATEWAY_ID } : {});
  const telemetry = startTelemetry('gateway');
  const gateway = await startGateway({
    natsUrl: env.NATS_URL,
    redisUrl: env.REDIS_URL,
    tokenSecret: env.CHORUS_TOKEN_SECRET,
    port: env.PORT,
    host: env.HOST,
    logger: log,
    ...(env.GATEWAY_ID && { gatewayId: env.GATEWAY_ID }),
    ...(env.SHARED_PORT && { sharedPort: env.SHARED_PORT }),
    ...(env.MAX_FRAME_BYTES && { maxFrameBytes: env.MAX_FRAME_BYTES }),
    ...(env.PING_INTERVAL_MS && { pingIntervalMs: env.PING_INTERVAL_MS }),
    ...(env.MAX_ROOMS_PER_SOCKET && { maxRoomsPerSocket: env.MAX_ROOMS_PER_SOCKET }),
    limits: limitsFrom(env),
  });

  exitGracefullyOnSignals(log, async () => {
    await gateway.close();
    await telemetry.shutdown();
  });
}

main().catch((error: unknown) => exitOnStartFailure('gateway', error));
