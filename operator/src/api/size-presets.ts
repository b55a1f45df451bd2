import type { ResourceRequirements } from './chatcluster-spec.js';

/**
 * `spec.size`: one preset per expected number of concurrent users. Each is a partial spec that
 * is merged *under* the user's spec (mergeUnder), so any field written in the ChatCluster wins
 * over its preset. The capacity behind each row (what is measured, what is extrapolated) is in
 * docs/operator.md, "Size presets".
 */
export const sizes = ['1k', '10k', '50k', '100k'] as const;
export type Size = (typeof sizes)[number];

const res = (cpu: string, memory: string, memoryLimit: string): ResourceRequirements => ({
  requests: { cpu, memory },
  limits: { memory: memoryLimit },
});

export const sizePresets: Record<Size, Record<string, unknown>> = {
  '1k': {
    gateway: { replicas: 2, resources: res('250m', '128Mi', '256Mi') },
    messageService: { minReplicas: 1, maxReplicas: 3, backlogPerReplica: 1000, resources: res('250m', '128Mi', '256Mi') },
    nats: { replicas: 1, storageSize: '1Gi', resources: res('100m', '128Mi', '512Mi') },
    redis: { resources: res('50m', '64Mi', '256Mi') },
    mongodb: { replicas: 1, resources: res('250m', '256Mi', '1Gi') },
  },
  '10k': {
    gateway: { replicas: 3, resources: res('1', '256Mi', '512Mi') },
    messageService: { minReplicas: 2, maxReplicas: 6, backlogPerReplica: 2000, resources: res('500m', '256Mi', '512Mi') },
    nats: { replicas: 3, storageSize: '5Gi', resources: res('500m', '256Mi', '1Gi') },
    redis: { resources: res('250m', '128Mi', '512Mi') },
    mongodb: { replicas: 3, resources: res('1', '1Gi', '2Gi') },
  },
  '50k': {
    gateway: { replicas: 8, resources: res('2', '512Mi', '1Gi') },
    messageService: { minReplicas: 3, maxReplicas: 16, backlogPerReplica: 5000, resources: res('1', '512Mi', '1Gi') },
    nats: { replicas: 3, storageSize: '20Gi', resources: res('2', '1Gi', '2Gi') },
    redis: { resources: res('1', '512Mi', '1Gi') },
    mongodb: { replicas: 3, resources: res('2', '4Gi', '8Gi') },
  },
  '100k': {
    gateway: { replicas: 16, resources: res('2', '512Mi', '1Gi') },
    messageService: { minReplicas: 4, maxReplicas: 32, backlogPerReplica: 5000, resources: res('1', '512Mi', '1Gi') },
    nats: { replicas: 3, storageSize: '50Gi', resources: res('4', '2Gi', '4Gi') },
    redis: { resources: res('2', '1Gi', '2Gi') },
    mongodb: { replicas: 3, resources: res('4', '8Gi', '16Gi') },
  },
};

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `explicit` over `base`, object by object; a value given in `explicit` (scalar or array) replaces the base's. */
export function mergeUnder(base: Record<string, unknown>, explicit: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(explicit)) {
    const under = merged[key];
    merged[key] = isPlainObject(under) && isPlainObject(value) ? mergeUnder(under, value) : value;
  }
  return merged;
}

/**
 * The spec with its size preset filled in under it; a spec without `size` (or with a size the
 * schema will refuse) comes back as it was. An external MongoDB has no replicas to size.
 */
export function withSizePreset(raw: unknown): unknown {
  if (!isPlainObject(raw) || typeof raw.size !== 'string' || !(sizes as readonly string[]).includes(raw.size)) return raw;
  let preset = sizePresets[raw.size as Size];
  if (isPlainObject(raw.mongodb) && raw.mongodb.external !== undefined) {
    const { replicas: _replicas, ...mongodb } = preset.mongodb as Record<string, unknown>;
    preset = { ...preset, mongodb };
  }
  return mergeUnder(preset, raw);
}
