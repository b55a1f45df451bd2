import { z } from 'zod';
import { envFields, readEnv } from '@chorus/shared/config/env';
import { createLogger } from '@chorus/shared/logging/logger';
import { startTelemetry } from '@chorus/shared/telemetry/tracing';
import { exitGracefullyOnSignals, exitOnStartFailure } from '@chorus/shared/lifecycle/graceful-shutdown';
import type { AuthSettings } from './auth/auth-settings.js';
import { normalizeOrigin } from './auth/origin-policy.js';
import { startGateway } from './gateway.js';
import { defaultDrainSettings } from './lifecycle/socket-drain.js';
import { defaultGatewayLimits, type GatewayLimitOverrides } from './limits/gateway-limits.js';

/** A positive rate or count from the environment; absent = the default in limits/gateway-limits.ts. */
const limit = (max: number) => z.coerce.number().positive().max(max).optional();
const whole = (min: number, max: number) => z.coerce.number().int().min(min).max(max).optional();

const seconds = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);

const envSchema = z
  .object({
    PORT: envFields.port(8080),
    /** Also listen here, shared with the other gateways of a cluster primary (npm start's one address). */
    SHARED_PORT: z.coerce.number().int().min(1).max(65535).optional(),
    /** 0.0.0.0 in a pod; loopback by default so a local run is never reachable from outside. */
    HOST: envFields.host,
    /** /metrics, health and admin; a port of its own so the public Service never exposes them. */
    METRICS_PORT: envFields.port(9464),
    METRICS_HOST: envFields.host,
    NATS_URL: envFields.natsUrl,
    REDIS_URL: z.string().min(1).default('redis://127.0.0.1:6379'),
    /** Redis's `requirepass` (a ChatCluster's `<name>-redis` Secret); kept out of REDIS_URL so the URL can sit in a ConfigMap. */
    REDIS_PASSWORD: z.string().min(1).optional(),
    GATEWAY_ID: z.string().min(1).optional(),
    MAX_FRAME_BYTES: z.coerce.number().int().min(1024).max(16 * 1024 * 1024).optional(),
    /** Server ping period; a socket that misses a ping is closed (ms). */
    PING_INTERVAL_MS: z.coerce.number().int().min(500).max(600_000).optional(),
    /**
     * Drain on SIGTERM (docs/protocol.md "Draining"): clients are told to reconnect elsewhere after
     * a delay spread over DRAIN_WINDOW_MS; the socket drain ends by DRAIN_TIMEOUT_MS at the latest.
     */
    DRAIN_WINDOW_MS: z.coerce.number().int().min(0).max(600_000).default(defaultDrainSettings.windowMs),
    DRAIN_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(900_000).default(defaultDrainSettings.timeoutMs),
    /** Replicas and size of the message stream if this gateway is the first to create it. */
    JETSTREAM_REPLICAS: z.coerce.number().int().min(1).max(5).optional(),
    STREAM_MAX_BYTES: z.coerce.number().int().min(1024 * 1024).optional(),

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

    /** dev: the gateway issues tokens to anyone (POST /api/login). jwt: it only verifies tokens it did not issue. */
    AUTH_MODE: z.enum(['dev', 'jwt']).default('jwt'),
    /** jwt: the key shared with the application's backend; dev: the key the gateways sign with. */
    AUTH_HS256_SECRET: z.string().min(32, 'AUTH_HS256_SECRET must be at least 32 characters').optional(),
    AUTH_JWKS_URL: z.url().optional(),
    AUTH_JWKS_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
    AUTH_ISSUER: z.string().min(1).optional(),
    AUTH_AUDIENCE: z.string().min(1).optional(),
    AUTH_USER_CLAIM: z.string().regex(/^[A-Za-z0-9_:./-]{1,64}$/, 'AUTH_USER_CLAIM must be a claim name').default('sub'),
    AUTH_CLOCK_TOLERANCE_SECONDS: seconds(0, 300).default(30),
    /** Tokens living longer are refused; revocation entries are kept this long. */
    AUTH_MAX_TOKEN_LIFETIME_SECONDS: seconds(60, 7 * 86_400).default(86_400),
    /** Lifetime of dev-mode tokens; the page refreshes before it ends. */
    DEV_TOKEN_TTL_SECONDS: seconds(5, 86_400).default(3_600),
    /** Comma-separated page origins allowed to open sockets; unset = only the gateway's own host. */
    ALLOWED_ORIGINS: z
      .string()
      .default('')
      .transform((value, ctx) => {
        const origins = value.split(',').map((o) => o.trim()).filter(Boolean);
        for (const origin of origins) {
          try {
            normalizeOrigin(origin);
          } catch {
            ctx.addIssue({ code: 'custom', message: `${origin} is not an origin like https://chat.example.com` });
          }
        }
        return origins;
      }),
    /** Bearer secret of POST /admin/revoke on METRICS_PORT; unset = no admin endpoint. */
    ADMIN_TOKEN: z.string().min(32, 'ADMIN_TOKEN must be at least 32 characters').optional(),
    /** The old name of the signing secret, refused with a pointer to the new one. */
    CHORUS_TOKEN_SECRET: z.string().optional(),
  })
  .superRefine((env, ctx) => {
    const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (env.DRAIN_WINDOW_MS + defaultDrainSettings.graceMs >= env.DRAIN_TIMEOUT_MS) {
      problem('DRAIN_TIMEOUT_MS', `must exceed DRAIN_WINDOW_MS + ${defaultDrainSettings.graceMs} ms (the grace a client has to leave by itself)`);
    }
    if (env.CHORUS_TOKEN_SECRET !== undefined) problem('CHORUS_TOKEN_SECRET', 'renamed: set AUTH_HS256_SECRET (and AUTH_MODE=dev for the name-only login)');
    if (env.AUTH_MODE === 'dev') {
      if (!env.AUTH_HS256_SECRET) problem('AUTH_HS256_SECRET', 'AUTH_MODE=dev signs its tokens with AUTH_HS256_SECRET: set it');
      if (env.AUTH_JWKS_URL) problem('AUTH_JWKS_URL', 'applies only to AUTH_MODE=jwt');
      return;
    }
    if (!env.AUTH_HS256_SECRET && !env.AUTH_JWKS_URL) problem('AUTH_MODE', 'AUTH_MODE=jwt needs AUTH_HS256_SECRET, AUTH_JWKS_URL, or both (or AUTH_MODE=dev for local use)');
    if (!env.AUTH_ISSUER) problem('AUTH_ISSUER', 'AUTH_MODE=jwt needs the expected iss claim');
    if (!env.AUTH_AUDIENCE) problem('AUTH_AUDIENCE', 'AUTH_MODE=jwt needs the expected aud claim');
    if (env.AUTH_JWKS_URL) {
      const url = new URL(env.AUTH_JWKS_URL);
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopbackHosts.has(url.hostname))) {
        problem('AUTH_JWKS_URL', 'must be https:// (plain http only on loopback): a forged key set would let anyone in');
      }
    }
  });

type Env = z.infer<typeof envSchema>;

/** What the shutdown may take after the socket drain (backend connections, telemetry flush). */
const closeAfterDrainMs = 5_000;

function authSettings(env: Env): AuthSettings {
  const common = { clockToleranceSeconds: env.AUTH_CLOCK_TOLERANCE_SECONDS };
  if (env.AUTH_MODE === 'dev') {
    return {
      mode: 'dev',
      ...common,
      secret: env.AUTH_HS256_SECRET!,
      issuer: env.AUTH_ISSUER ?? 'chorus-dev',
      audience: env.AUTH_AUDIENCE ?? 'chorus',
      ttlSeconds: env.DEV_TOKEN_TTL_SECONDS,
    };
  }
  return {
    mode: 'jwt',
    ...common,
    ...(env.AUTH_HS256_SECRET && { hs256Secret: env.AUTH_HS256_SECRET }),
    ...(env.AUTH_JWKS_URL && { jwksUrl: new URL(env.AUTH_JWKS_URL) }),
    jwksTimeoutMs: env.AUTH_JWKS_TIMEOUT_MS,
    issuer: env.AUTH_ISSUER!,
    audience: env.AUTH_AUDIENCE!,
    userClaim: env.AUTH_USER_CLAIM,
    maxLifetimeSeconds: env.AUTH_MAX_TOKEN_LIFETIME_SECONDS,
  };
}

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
  const telemetry = startTelemetry('chorus-gateway');
  if (env.AUTH_MODE === 'dev') log.warn('AUTH_MODE=dev: anyone can log in as any name (POST /api/login); never use it in production');
  const gateway = await startGateway({
    natsUrl: env.NATS_URL,
    redisUrl: env.REDIS_URL,
    ...(env.REDIS_PASSWORD && { redisPassword: env.REDIS_PASSWORD }),
    auth: authSettings(env),
    allowedOrigins: env.ALLOWED_ORIGINS,
    port: env.PORT,
    host: env.HOST,
    metricsPort: env.METRICS_PORT,
    metricsHost: env.METRICS_HOST,
    logger: log,
    ...(env.ADMIN_TOKEN && { adminToken: env.ADMIN_TOKEN }),
    ...(env.GATEWAY_ID && { gatewayId: env.GATEWAY_ID }),
    ...(env.SHARED_PORT && { sharedPort: env.SHARED_PORT }),
    ...(env.MAX_FRAME_BYTES && { maxFrameBytes: env.MAX_FRAME_BYTES }),
    ...(env.PING_INTERVAL_MS && { pingIntervalMs: env.PING_INTERVAL_MS }),
    ...(env.MAX_ROOMS_PER_SOCKET && { maxRoomsPerSocket: env.MAX_ROOMS_PER_SOCKET }),
    limits: limitsFrom(env),
    drain: { windowMs: env.DRAIN_WINDOW_MS, timeoutMs: env.DRAIN_TIMEOUT_MS },
    stream: {
      ...(env.JETSTREAM_REPLICAS !== undefined && { replicas: env.JETSTREAM_REPLICAS }),
      ...(env.STREAM_MAX_BYTES !== undefined && { maxBytes: env.STREAM_MAX_BYTES }),
    },
  });

  // The drain, then the backends' close and the telemetry flush: bounded, below the pod's grace period.
  exitGracefullyOnSignals(log, async () => {
    await gateway.close();
    await telemetry.shutdown();
  }, env.DRAIN_TIMEOUT_MS + closeAfterDrainMs);
}

main().catch((error: unknown) => exitOnStartFailure('gateway', error));
