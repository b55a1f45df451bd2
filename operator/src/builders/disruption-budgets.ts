import type { KubeObject } from '../kube/kube-object.js';
import type { BuildContext } from './build-context.js';
import { childMeta, names, selectorLabels, type Component } from './naming.js';

function pdb(ctx: BuildContext, name: string, component: Component, budget: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMeta(ctx.cr, name, component),
    // A pod that is not ready may always be evicted: a crash-looping replica never blocks a node
    // drain, and it counts toward no quorum anyway.
    spec: { ...budget, unhealthyPodEvictionPolicy: 'AlwaysAllow', selector: { matchLabels: selectorLabels(ctx.name, component) } },
  };
}

/**
 * Voluntary disruptions (node drains, evictions) take one pod at a time; quorum members (NATS,
 * MongoDB with 3 or 5 replicas) keep a majority, which for 3 is minAvailable 2 (replicas - 1).
 * maxUnavailable 1 (not minAvailable replicas - 1) for the others: it follows the autopilot's
 * replica changes by itself, and for a single replica it still allows the one eviction, so a
 * single-replica workload (Redis, one NATS or MongoDB) never blocks a drain: it is down while its
 * pod moves, which its single replica means anyway.
 */
export function disruptionBudgets(ctx: BuildContext): KubeObject[] {
  const { spec, name } = ctx;
  const quorum = (n: number) => ({ minAvailable: Math.floor(n / 2) + 1 });
  const out = [
    pdb(ctx, names.gateway(name), 'gateway', { maxUnavailable: 1 }),
    pdb(ctx, names.messageService(name), 'message-service', { maxUnavailable: 1 }),
    pdb(ctx, names.nats(name), 'nats', spec.nats.replicas > 1 ? quorum(spec.nats.replicas) : { maxUnavailable: 1 }),
  ];
  out.push(pdb(ctx, names.redis(name), 'redis', { maxUnavailable: 1 }));
  if (!spec.mongodb.external) {
    out.push(pdb(ctx, names.mongodb(name), 'mongodb', spec.mongodb.replicas > 1 ? quorum(spec.mongodb.replicas) : { maxUnavailable: 1 }));
  }
  return out;
}
