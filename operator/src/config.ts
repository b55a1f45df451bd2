import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { z } from 'zod';

/** A comma-separated list (flag or env), blanks dropped. */
const commaList = z.string().default('').transform((value) => value.split(',').map((v) => v.trim()).filter(Boolean));

/**
 * Operator settings from flags, falling back to env (CHORUS_OPERATOR_*), then defaults.
 * Validated up front so a typo stops the process with a clear message.
 */
export const operatorConfig = z.object({
  kubeconfig: z.string().optional(),
  /** Empty: watch every namespace. */
  namespace: z.string().default(''),
  leaderElection: z.boolean().default(true),
  leaseName: z.string().min(1).default('chorus-operator'),
  leaseNamespace: z.string().min(1).default('default'),
  identity: z.string().min(1),
  leaseDurationMs: z.coerce.number().int().min(1000).default(15_000),
  renewDeadlineMs: z.coerce.number().int().min(500).default(10_000),
  retryPeriodMs: z.coerce.number().int().min(100).default(2_000),
  healthPort: z.coerce.number().int().min(0).max(65535).default(8081),
  healthHost: z.string().default('0.0.0.0'),
  /**
   * NATS URL template for the autopilot; {name} and {namespace} are the ChatCluster's. In-cluster
   * default: the cluster's NATS client Service.
   */
  natsUrl: z.string().min(1).default('nats://{name}-nats.{namespace}.svc:4222'),
  autopilot: z.boolean().default(true),
  autopilotIntervalMs: z.coerce.number().int().min(100).default(1_000),
  watchTimeoutSeconds: z.coerce.number().int().min(10).default(300),
  workers: z.coerce.number().int().min(1).max(16).default(2),
  /** The operator's own namespace (POD_NAMESPACE in a pod): the NetworkPolicies let its pods reach NATS and metrics. */
  operatorNamespace: z.string().optional(),
  /**
   * The administrator's allowlist (reconcile/allowlist.ts). Image reference prefixes a ChatCluster
   * may run (its Chorus image and its NATS, Redis and MongoDB images); empty: any image.
   */
  allowedImages: commaList,
  /**
   * Name prefixes of the Secrets a ChatCluster may reference (spec.mongodb.external.uriSecretRef,
   * spec.gateway.auth.hs256SecretRef); `{name}` stands for the ChatCluster's name; empty: any Secret.
   */
  allowedSecretPrefixes: commaList,
}).refine((c) => c.renewDeadlineMs < c.leaseDurationMs, { message: 'renewDeadlineMs must be less than leaseDurationMs' });

export type OperatorConfig = z.infer<typeof operatorConfig>;

const bool = (value: string | boolean | undefined) => (value === undefined ? undefined : value === true || value === 'true' || value === '1');

export function loadConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: 'string' },
      namespace: { type: 'string' },
      'leader-elect': { type: 'string' },
      'lease-name': { type: 'string' },
      'lease-namespace': { type: 'string' },
      identity: { type: 'string' },
      'lease-duration-ms': { type: 'string' },
      'renew-deadline-ms': { type: 'string' },
      'retry-period-ms': { type: 'string' },
      'health-port': { type: 'string' },
      'health-host': { type: 'string' },
      'nats-url': { type: 'string' },
      autopilot: { type: 'string' },
      'autopilot-interval-ms': { type: 'string' },
      'watch-timeout-seconds': { type: 'string' },
      workers: { type: 'string' },
      'operator-namespace': { type: 'string' },
      'allowed-images': { type: 'string' },
      'allowed-secret-prefixes': { type: 'string' },
    },
    strict: true,
  });
  const e = (name: string) => env[`CHORUS_OPERATOR_${name}`];
  const raw = {
    kubeconfig: values.kubeconfig ?? env.KUBECONFIG,
    namespace: values.namespace ?? e('NAMESPACE'),
    leaderElection: bool(values['leader-elect'] ?? e('LEADER_ELECT')),
    leaseName: values['lease-name'] ?? e('LEASE_NAME'),
    leaseNamespace: values['lease-namespace'] ?? e('LEASE_NAMESPACE') ?? env.POD_NAMESPACE,
    identity: values.identity ?? e('IDENTITY') ?? env.POD_NAME ?? `${hostname()}-${process.pid}`,
    leaseDurationMs: values['lease-duration-ms'] ?? e('LEASE_DURATION_MS'),
    renewDeadlineMs: values['renew-deadline-ms'] ?? e('RENEW_DEADLINE_MS'),
    retryPeriodMs: values['retry-period-ms'] ?? e('RETRY_PERIOD_MS'),
    healthPort: values['health-port'] ?? e('HEALTH_PORT'),
    healthHost: values['health-host'] ?? e('HEALTH_HOST'),
    natsUrl: values['nats-url'] ?? e('NATS_URL'),
    autopilot: bool(values.autopilot ?? e('AUTOPILOT')),
    autopilotIntervalMs: values['autopilot-interval-ms'] ?? e('AUTOPILOT_INTERVAL_MS'),
    watchTimeoutSeconds: values['watch-timeout-seconds'] ?? e('WATCH_TIMEOUT_SECONDS'),
    workers: values.workers ?? e('WORKERS'),
    operatorNamespace: values['operator-namespace'] ?? e('OPERATOR_NAMESPACE') ?? env.POD_NAMESPACE,
    allowedImages: values['allowed-images'] ?? e('ALLOWED_IMAGES'),
    allowedSecretPrefixes: values['allowed-secret-prefixes'] ?? e('ALLOWED_SECRET_PREFIXES'),
  };
  const parsed = operatorConfig.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== '' || false)));
  if (!parsed.success) {
    throw new Error(`invalid operator configuration:\n${parsed.error.issues.map((i) => `  ${i.path.join('.') || '(config)'}: ${i.message}`).join('\n')}`);
  }
  return parsed.data;
}
