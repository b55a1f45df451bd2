import type { KubeObject } from '../kube/kube-object.js';
import type { BuildContext } from './build-context.js';
import { childMeta, names, selectorLabels, type Component } from './naming.js';

function pdb(ctx: BuildContext, name: string, component: Component, budget: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMeta(ctx.cr, name, component),
    spec: { ...budget, selector: { matchLabels: selectorLabels(ctx.name, component) } },
  };
}

/**
 * Voluntary disruptions (node drains) take one pod at a time; quorum members (NATS, MongoDB)
 * keep a majority.
 */
export function disruptionBudgets(ctx: BuildContext): KubeObject[] {
  const { spec, name } = ctx;
  const quorum = (n: number) => ({ minAvailable: Math.floor(n / 2) + 1 });
  const out = [
    pdb(ctx, names.gateway(name), 'gateway', { maxUnavailable: 1 }),
    pdb(ctx, names.messageService(name), 'message-service', { maxUnavailable: 1 }),
    pdb(ctx, names.nats(name), 'nats', spec.nats.replicas > 1 ? quorum(spec.nats.replicas) : { maxUnavailable: 1 }),
  ];
  if (!spec.mongodb.external) {
    out.push(pdb(ctx, names.mongodb(name), 'mongodb', spec.mongodb.replicas > 1 ? quorum(spec.mongodb.replicas) : { maxUnavailable: 1 }));
  }
  return out;
}
