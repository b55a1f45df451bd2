/**
 * Replica scaler: message-service replicas from the JetStream backlog, like KEDA's JetStream
 * scaler with the HPA's stabilization windows. Pure (time comes in with each observation).
 *
 * API
 *   const scaler = new ReplicaScaler(config, currentReplicas);   // throws RangeError on bad config
 *   const { replicas, recommended, changed } = scaler.observe({ backlog, timeMs });
 *   rawReplicas(backlog, config)  // ceil(backlog / backlogPerReplica) clamped to [min, max]
 *
 * Stabilization (as the HPA's behavior.scaleUp/scaleDown.stabilizationWindowSeconds): a scale-up
 * goes to the lowest recommendation seen within scaleUpStabilizationMs (the backlog must stay
 * high for the whole window), a scale-down to the highest recommendation within
 * scaleDownStabilizationMs (it must stay low for the whole window). So a brief spike or a brief
 * lull does not make replicas flap.
 */
export interface ScalerConfig {
  minReplicas: number;
  maxReplicas: number;
  /** Backlog one replica should absorb. */
  backlogPerReplica: number;
  scaleUpStabilizationMs: number;
  scaleDownStabilizationMs: number;
}

export interface ScaleDecision {
  /** Replicas to run now. */
  replicas: number;
  /** What the backlog alone asks for at this instant. */
  recommended: number;
  changed: boolean;
}

export function validateScalerConfig(config: ScalerConfig): void {
  if (!Number.isInteger(config.minReplicas) || config.minReplicas < 0) throw new RangeError('minReplicas must be an integer >= 0');
  if (!Number.isInteger(config.maxReplicas) || config.maxReplicas < config.minReplicas) throw new RangeError('maxReplicas must be an integer >= minReplicas');
  if (!(config.backlogPerReplica > 0)) throw new RangeError('backlogPerReplica must be > 0');
  if (config.scaleUpStabilizationMs < 0 || config.scaleDownStabilizationMs < 0) throw new RangeError('stabilization windows must be >= 0');
}

export function rawReplicas(backlog: number, config: ScalerConfig): number {
  const wanted = Math.ceil(Math.max(0, backlog) / config.backlogPerReplica);
  return Math.min(config.maxReplicas, Math.max(config.minReplicas, wanted));
}

export class ReplicaScaler {
  private history: { timeMs: number; recommended: number }[] = [];
  private replicas: number;

  constructor(
    private config: ScalerConfig,
    currentReplicas: number,
  ) {
    validateScalerConfig(config);
    this.replicas = Math.min(config.maxReplicas, Math.max(config.minReplicas, currentReplicas));
  }

  get current(): number {
    return this.replicas;
  }

  setConfig(config: ScalerConfig): void {
    validateScalerConfig(config);
    this.config = config;
    this.replicas = Math.min(config.maxReplicas, Math.max(config.minReplicas, this.replicas));
  }

  observe(observation: { backlog: number; timeMs: number }): ScaleDecision {
    const recommended = rawReplicas(observation.backlog, this.config);
    const now = observation.timeMs;
    this.history.push({ timeMs: now, recommended });
    const keepMs = Math.max(this.config.scaleUpStabilizationMs, this.config.scaleDownStabilizationMs);
    this.history = this.history.filter((h) => now - h.timeMs <= keepMs);
    const within = (ms: number) => this.history.filter((h) => now - h.timeMs <= ms).map((h) => h.recommended);
    let next = this.replicas;
    if (recommended > this.replicas) {
      next = Math.max(this.replicas, Math.min(...within(this.config.scaleUpStabilizationMs)));
    } else if (recommended < this.replicas) {
      next = Math.min(this.replicas, Math.max(...within(this.config.scaleDownStabilizationMs)));
    }
    const changed = next !== this.replicas;
    this.replicas = next;
    return { replicas: next, recommended, changed };
  }
}
