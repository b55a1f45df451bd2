import { batchingLimits, defaultBatchSettings } from '@chorus/shared/batching/batch-settings';
import { z } from 'zod';
import { sizes, withSizePreset } from './size-presets.js';

/**
 * The ChatCluster spec as the operator reads it. The CRD (crds/chatcluster.yaml) validates and
 * defaults on the API server; this schema repeats the same defaults (so the builders work on
 * objects the server did not default, e.g. in unit tests) and the cross-field rules the
 * schema cannot express, which the reconciler reports in status as `InvalidSpec`.
 */
const quantity = z.union([z.string(), z.number()]);
const resources = z
  .object({ requests: z.record(z.string(), quantity).optional(), limits: z.record(z.string(), quantity).optional() })
  .optional();
const originPattern = /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$/;
const storage = z.string().regex(/^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'a quantity such as 1Gi');

export const chatClusterSpec = z
  .object({
    /** A size preset (api/size-presets.ts), merged under the fields written here. */
    size: z.enum(sizes).optional(),
    image: z.string().min(1).default('ghcr.io/chorus-chat/chorus'),
    version: z.string().min(1).default('0.1.0'),
    imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
    gateway: z
      .object({
        replicas: z.number().int().min(1).max(100).default(2),
        resources,
        drain: z
          .object({
            windowSeconds: z.number().int().min(0).max(600).default(10),
            timeoutSeconds: z.number().int().min(3).max(900).default(25),
          })
          .prefault({})
          .refine((d) => d.windowSeconds + 2 < d.timeoutSeconds, { message: 'gateway.drain.timeoutSeconds must exceed gateway.drain.windowSeconds + 2' }),
        service: z
          .object({
            type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']).default('ClusterIP'),
            port: z.number().int().min(1).max(65535).default(8080),
          })
          .prefault({}),
        ingress: z
          .object({ host: z.string().min(1), className: z.string().optional(), tlsSecretName: z.string().optional() })
          .optional(),
        auth: z
          .object({
            devLogin: z.boolean().default(false),
            hs256SecretRef: z.object({ name: z.string().min(1), key: z.string().min(1).default('secret') }).optional(),
            jwksUrl: z.string().regex(/^https:\/\/\S+$/, 'an https:// URL').optional(),
            issuer: z.string().min(1).default('chorus'),
            audience: z.string().min(1).default('chorus'),
            userClaim: z.string().regex(/^[A-Za-z0-9_:./-]{1,64}$/, 'a claim name').default('sub'),
            maxTokenLifetimeSeconds: z.number().int().min(60).max(604_800).default(86_400),
            allowedOrigins: z.array(z.string().regex(originPattern, 'an origin such as https://chat.example.com')).max(50).default([]),
          })
          .prefault({})
          .refine((a) => !(a.devLogin && (a.jwksUrl || a.hs256SecretRef)), {
            message: 'gateway.auth.jwksUrl and gateway.auth.hs256SecretRef do not apply with gateway.auth.devLogin (dev mode issues its own tokens)',
          }),
      })
      .prefault({}),
    messageService: z
      .object({
        minReplicas: z.number().int().min(1).max(100).default(1),
        maxReplicas: z.number().int().min(1).max(100).default(10),
        backlogPerReplica: z.number().int().min(1).default(1000),
        scaleUpStabilizationSeconds: z.number().int().min(0).max(3600).default(0),
        scaleDownStabilizationSeconds: z.number().int().min(0).max(3600).default(60),
        drainTimeoutSeconds: z.number().int().min(1).max(900).default(20),
        resources,
      })
      .prefault({})
      .refine((m) => m.minReplicas <= m.maxReplicas, {
        message: 'messageService.minReplicas must be less than or equal to messageService.maxReplicas',
      }),
    batching: z
      .object({
        mode: z.enum(['auto', 'fixed']).default('auto'),
        batchSize: z.number().int().min(1).max(batchingLimits.maxBatchSize).default(defaultBatchSettings.batchSize),
        flushIntervalMs: z.number().int().min(1).max(batchingLimits.maxFlushIntervalMs).default(defaultBatchSettings.flushIntervalMs),
        targetLatencyMs: z.number().int().min(1).max(60_000).default(100),
        bounds: z
          .object({
            minBatchSize: z.number().int().min(1).max(batchingLimits.maxBatchSize).default(10),
            maxBatchSize: z.number().int().min(1).max(batchingLimits.maxBatchSize).default(1000),
            minFlushMs: z.number().int().min(1).max(batchingLimits.maxFlushIntervalMs).default(5),
            maxFlushMs: z.number().int().min(1).max(batchingLimits.maxFlushIntervalMs).default(200),
          })
          .prefault({})
          .refine((b) => b.minBatchSize <= b.maxBatchSize, {
            message: 'batching.bounds.minBatchSize must be less than or equal to batching.bounds.maxBatchSize',
          })
          .refine((b) => b.minFlushMs <= b.maxFlushMs, {
            message: 'batching.bounds.minFlushMs must be less than or equal to batching.bounds.maxFlushMs',
          }),
      })
      .prefault({}),
    nats: z
      .object({
        image: z.string().default('nats:2.12-alpine'),
        replicas: z.union([z.literal(1), z.literal(3), z.literal(5)]).default(1),
        storageSize: storage.default('1Gi'),
        storageClassName: z.string().optional(),
        resources,
      })
      .prefault({}),
    redis: z
      .object({
        image: z.string().default('redis:7-alpine'),
        /** The append-only file (revocations must survive a restart). */
        storageSize: storage.default('1Gi'),
        storageClassName: z.string().optional(),
        resources,
      })
      .prefault({}),
    mongodb: z
      .object({
        image: z.string().default('mongo:7'),
        replicas: z.union([z.literal(1), z.literal(3), z.literal(5)]).default(1),
        storageSize: storage.default('1Gi'),
        storageClassName: z.string().optional(),
        resources,
        external: z
          .object({ uriSecretRef: z.object({ name: z.string().min(1), key: z.string().default('uri') }) })
          .optional(),
      })
      .prefault({}),
    /** Abuse limits (docs/limits.md); a field left out keeps the service's default. */
    limits: z
      .object({
        socketSendsPerSec: z.number().positive().max(100_000).optional(),
        socketSendBurst: z.number().int().min(1).max(1_000_000).optional(),
        userSendsPerSec: z.number().positive().max(100_000).optional(),
        userSendBurst: z.number().int().min(1).max(1_000_000).optional(),
        socketFramesPerSec: z.number().positive().max(100_000).optional(),
        socketFrameBurst: z.number().int().min(1).max(1_000_000).optional(),
        socketsPerUser: z.number().int().min(1).max(100_000).optional(),
        roomsPerSocket: z.number().int().min(1).max(100_000).optional(),
        roomsCreatedPerHour: z.number().int().min(1).max(1_000_000).optional(),
        roomsPerUser: z.number().int().min(1).max(1_000_000).optional(),
        membersPerRoom: z.number().int().min(1).max(10_000_000).optional(),
        httpHeadersTimeoutMs: z.number().int().min(100).max(600_000).optional(),
        httpRequestTimeoutMs: z.number().int().min(100).max(600_000).optional(),
        httpBodyTimeoutMs: z.number().int().min(100).max(600_000).optional(),
        httpMaxBodyBytes: z.number().int().min(64).max(16 * 1024 * 1024).optional(),
      })
      .optional(),
    tracing: z.object({ otlpEndpoint: z.string().regex(/^https?:\/\//, 'an http(s):// URL').optional() }).optional(),
    loadtest: z
      .object({
        enabled: z.boolean().default(false),
        profile: z.enum(['steady', 'ramp', 'new-year']).default('steady'),
        args: z.array(z.string()).default([]),
      })
      .prefault({}),
  })
  .prefault({})
  .refine((s) => !s.loadtest.enabled || s.gateway.auth.devLogin, {
    message: 'loadtest.enabled needs gateway.auth.devLogin: true (the load tester logs in by name)',
  });

export type ChatClusterSpec = z.infer<typeof chatClusterSpec>;
export type ResourceRequirements = NonNullable<z.infer<typeof resources>>;

export type ParsedSpec = { ok: true; spec: ChatClusterSpec } | { ok: false; message: string };

/**
 * Fills in the size preset under the spec, then defaults and validates it; on failure, one
 * readable line per problem (for status).
 */
export function parseSpec(raw: unknown): ParsedSpec {
  const parsed = chatClusterSpec.safeParse(withSizePreset(raw ?? {}));
  if (parsed.success) return { ok: true, spec: parsed.data };
  const message = parsed.error.issues
    .map((issue) => {
      const path = ['spec', ...issue.path.map(String)].join('.');
      return issue.message.includes('.') && issue.code === 'custom' ? issue.message : `${path}: ${issue.message}`;
    })
    .join('; ');
  return { ok: false, message };
}

/** Default container resources per component, used when the spec leaves them out. */
export const defaultResources: Record<'gateway' | 'messageService' | 'nats' | 'redis' | 'mongodb' | 'loadtest', ResourceRequirements> = {
  gateway: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
  messageService: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
  nats: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
  redis: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
  mongodb: { requests: { cpu: '200m', memory: '256Mi' }, limits: { memory: '1Gi' } },
  loadtest: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
};
