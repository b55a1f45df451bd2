import { z } from 'zod';
import { envFields, readEnv } from '@chorus/shared/config/env';
import { createLogger } from '@chorus/shared/logging/logger';
import { startTelemetry } from '@chorus/shared/telemetry/tracing';
import { exitGracefullyOnSignals, exitOnStartFailure } from '@chorus/shared/lifecycle/graceful-shutdown';
import { startMessageService } from './service.js';

const envSchema = z.object({
  NATS_URL: envFields.natsUrl,
  MONGODB_URI: z.string().min(1).default('mongodb://127.0.0.1:27017/'),
  MONGODB_DB: z.string().min(1).default('chorus'),
  /** /metrics, /healthz and /readyz; 0 = off (the default for local runs, where replicas share a host). */
  METRICS_PORT: envFields.port(0),
  /** 0.0.0.0 in a pod so the kubelet's probes reach it. */
  METRICS_HOST: envFields.host,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** JetStream replicas of the stream and settings bucket if this process creates them. */
  JETSTREAM_REPLICAS: z.coerce.number().int().min(1).max(5).optional(),
  /** How long a pulled message may stay unacked before JetStream redelivers it (ms). */
  ACK_WAIT_MS: z.coerce.number().int().min(1_000).max(600_000).optional(),
  /**
   * Retention (docs/architecture.md "Retention"): how long written messages stay in the stream for
   * resumes (at least JetStream's 2-minute duplicate window and then some), and its size limit.
   */
  STREAM_MAX_AGE_MS: z.coerce.number().int().min(300_000).optional(),
  STREAM_MAX_BYTES: z.coerce.number().int().min(1024 * 1024).optional(),
  /** Connection name; replicas differ by pod name. */
  SERVICE_INSTANCE: z.string().min(1).optional(),
  /** Room quotas (docs/limits.md). */
  LIMIT_ROOMS_CREATED_PER_HOUR: z.coerce.number().int().min(1).max(1_000_000).optional(),
  LIMIT_ROOMS_PER_USER: z.coerce.number().int().min(1).max(1_000_000).optional(),
  LIMIT_MEMBERS_PER_ROOM: z.coerce.number().int().min(1).max(10_000_000).optional(),
  /** How long a graceful shutdown (SIGTERM: the batch in flight, the RPCs in flight) may take before the process exits anyway. */
  DRAIN_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(900_000).default(20_000),
});


async function main(): Promise<void> {
  const env = readEnv(envSchema);
  const log = createLogger('message-service');
  const telemetry = startTelemetry('chorus-message-service');
  const service = await startMessageService({
    natsUrl: env.NATS_URL,
    mongoUri: env.MONGODB_URI,
    mongoDb: env.MONGODB_DB,
    metricsPort: env.METRICS_PORT,
    metricsHost: env.METRICS_HOST,
    name: env.SERVICE_INSTANCE ? `message-service ${env.SERVICE_INSTANCE}` : 'message-service',
    logger: log,
    roomLimits: {
      ...(env.LIMIT_ROOMS_CREATED_PER_HOUR !== undefined && { roomsCreatedPerHour: env.LIMIT_ROOMS_CREATED_PER_HOUR }),
      ...(env.LIMIT_ROOMS_PER_USER !== undefined && { roomsPerUser: env.LIMIT_ROOMS_PER_USER }),
      ...(env.LIMIT_MEMBERS_PER_ROOM !== undefined && { membersPerRoom: env.LIMIT_MEMBERS_PER_ROOM }),
    },
    ...(env.JETSTREAM_REPLICAS !== undefined && { jetstreamReplicas: env.JETSTREAM_REPLICAS }),
    stream: {
      ...(env.ACK_WAIT_MS !== undefined && { ackWaitMs: env.ACK_WAIT_MS }),
      ...(env.STREAM_MAX_BYTES !== undefined && { maxBytes: env.STREAM_MAX_BYTES }),
    },
    ...(env.STREAM_MAX_AGE_MS !== undefined && { trim: { retainMs: env.STREAM_MAX_AGE_MS } }),
  });

  exitGracefullyOnSignals(log, async () => {
    await service.close();
    await telemetry.shutdown();
  }, env.DRAIN_TIMEOUT_MS);
}

main().catch((error: unknown) => exitOnStartFailure('message-service', error));
