import { z } from 'zod';
import { envFields, readEnv } from '@chorus/shared/config/env';
import { createLogger } from '@chorus/shared/logging/logger';
import { startTelemetry } from '@chorus/shared/telemetry/tracing';
import { startMessageService } from './service.js';

const envSchema = z.object({
  NATS_URL: envFields.natsUrl,
  MONGODB_URI: z.string().min(1).default('mongodb://127.0.0.1:27017/'),
  MONGODB_DB: z.string().min(1).default('chorus'),
  HEALTH_PORT: envFields.port(0),
  /** 0.0.0.0 in a pod so the kubelet's probes reach it. */
  HEALTH_HOST: envFields.host,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** JetStream replicas of the stream and settings bucket if this process creates them. */
  JETSTREAM_REPLICAS: z.coerce.number().int().min(1).max(5).optional(),
  /** Connection name; replicas differ by pod name. */
  SERVICE_INSTANCE: z.string().min(1).optional(),
});

/** How long a graceful shutdown may take before the process exits anyway. */
const shutdownTimeoutMs = 20_000;

async function main(): Promise<void> {
  const env = readEnv(envSchema);
  const log = createLogger('message-service');
  const telemetry = startTelemetry('message-service');
  const service = await startMessageService({
    natsUrl: env.NATS_URL,
    mongoUri: env.MONGODB_URI,
    mongoDb: env.MONGODB_DB,
    healthPort: env.HEALTH_PORT,
    healthHost: env.HEALTH_HOST,
    name: env.SERVICE_INSTANCE ? `message-service ${env.SERVICE_INSTANCE}` : 'message-service',
    logger: log,
    ...(env.JETSTREAM_REPLICAS !== undefined && { jetstreamReplicas: env.JETSTREAM_REPLICAS }),
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      log.error('shutdown timed out');
      process.exit(1);
    }, shutdownTimeoutMs);
    timer.unref();
    service
      .close()
      .then(() => telemetry.shutdown())
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  // pino may not exist yet (bad env): plain stderr keeps the reason visible.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
