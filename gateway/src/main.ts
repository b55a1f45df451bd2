import { z } from 'zod';
import { envFields, readEnv } from '@chorus/shared/config/env';
import { createLogger } from '@chorus/shared/logging/logger';
import { startTelemetry } from '@chorus/shared/telemetry/tracing';
import { exitGracefullyOnSignals, exitOnStartFailure } from '@chorus/shared/lifecycle/graceful-shutdown';
import { startGateway } from './gateway.js';

const envSchema = z.object({
  PORT: envFields.port(8080),
  /** 0.0.0.0 in a pod; loopback by default so a local run is never reachable from outside. */
  HOST: envFields.host,
  NATS_URL: envFields.natsUrl,
  REDIS_URL: z.string().min(1).default('redis://127.0.0.1:6379'),
  CHORUS_TOKEN_SECRET: z.string().min(16, 'CHORUS_TOKEN_SECRET must be at least 16 characters (a Secret in Kubernetes)'),
  GATEWAY_ID: z.string().min(1).optional(),
  MAX_FRAME_BYTES: z.coerce.number().int().min(1024).max(16 * 1024 * 1024).optional(),
  /** Server ping period; a socket that misses a ping is closed (ms). */
  PING_INTERVAL_MS: z.coerce.number().int().min(500).max(600_000).optional(),
  /** Replicas and size of the message stream if this gateway is the first to create it. */
  JETSTREAM_REPLICAS: z.coerce.number().int().min(1).max(5).optional(),
  STREAM_MAX_BYTES: z.coerce.number().int().min(1024 * 1024).optional(),
});

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
    ...(env.MAX_FRAME_BYTES && { maxFrameBytes: env.MAX_FRAME_BYTES }),
    ...(env.PING_INTERVAL_MS && { pingIntervalMs: env.PING_INTERVAL_MS }),
    stream: {
      ...(env.JETSTREAM_REPLICAS !== undefined && { replicas: env.JETSTREAM_REPLICAS }),
      ...(env.STREAM_MAX_BYTES !== undefined && { maxBytes: env.STREAM_MAX_BYTES }),
    },
  });

  exitGracefullyOnSignals(log, async () => {
    await gateway.close();
    await telemetry.shutdown();
  });
}

main().catch((error: unknown) => exitOnStartFailure('gateway', error));
