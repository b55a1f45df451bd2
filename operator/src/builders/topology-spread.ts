/**
 * Topology spread constraints: replicas of one workload spread evenly over nodes and over zones
 * (maxSkew 1), so a node drain or a zone outage takes a bounded share of them. ScheduleAnyway, not
 * DoNotSchedule: a cluster with fewer nodes than replicas (the single-node test cluster) still
 * runs every replica; the scheduler only prefers the spread.
 */
export function topologySpread(selector: Record<string, string>): Record<string, unknown>[] {
  return ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'].map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels: selector },
  }));
}

/** The pod's grace period: the service's own drain deadline plus the rest of its shutdown, with margin. */
export function gracePeriodAbove(drainSeconds: number): number {
  return drainSeconds + 10;
}
