import type { ChatClusterStatus, ComponentStatus, Condition, UpgradeStatus } from '../api/chatcluster.js';
import type { ChatClusterSpec } from '../api/chatcluster-spec.js';
import type { Workload } from '../kube/object-types.js';
import { setCondition } from './conditions.js';

export interface ObservedChildren {
  gateway?: Workload;
  messageService?: Workload;
  nats?: Workload;
  redis?: Workload;
  mongodb?: Workload;
}

/**
 * Whether a Deployment/StatefulSet has rolled out its current spec, as `kubectl rollout status`
 * judges it: its controller has seen the latest generation and every desired replica is updated.
 */
export function rolledOut(obj: Workload | undefined, desired: number): boolean {
  if (!obj) return desired === 0;
  const status = obj.status ?? {};
  return (status.observedGeneration ?? 0) >= (obj.metadata.generation ?? 0) && (status.updatedReplicas ?? 0) >= desired;
}

function component(obj: Workload | undefined, desired: number, selector?: string): ComponentStatus {
  const status = obj?.status ?? {};
  const ready = status.readyReplicas ?? 0;
  return {
    replicas: status.replicas ?? 0,
    readyReplicas: ready,
    summary: `${ready}/${desired}`,
    ...(selector && { selector }),
  };
}

/** The part of status the reconciler owns (conditions, counts); the autopilot owns batching/autopilot. */
export type ReconcilerStatus = Pick<
  ChatClusterStatus,
  'observedGeneration' | 'conditions' | 'gateway' | 'messageService' | 'nats' | 'redis' | 'mongodb' | 'upgrade'
>;

/**
 * Pure: what status should say, from the spec, the children as last observed, and problems met
 * while applying. Ready = every component has its desired ready replicas.
 */
export function computeStatus(input: {
  generation: number;
  previous: Condition[] | undefined;
  spec: ChatClusterSpec;
  workerReplicas: number;
  gatewaySelector: string;
  children: ObservedChildren;
  applyErrors: string[];
  /** Problems the schema cannot catch, e.g. a referenced Secret that does not exist. */
  referenceProblems?: string[];
  /** The verified upgrade's state (reconcile/upgrade.ts). */
  upgrade?: UpgradeStatus;
  now?: Date;
}): ReconcilerStatus {
  const references = input.referenceProblems ?? [];
  const { spec, children, generation } = input;
  const now = input.now ?? new Date();
  const status: ReconcilerStatus = {
    observedGeneration: generation,
    gateway: component(children.gateway, spec.gateway.replicas, input.gatewaySelector),
    messageService: component(children.messageService, input.workerReplicas),
    nats: component(children.nats, spec.nats.replicas),
    redis: component(children.redis, 1),
    ...(!spec.mongodb.external && { mongodb: component(children.mongodb, spec.mongodb.replicas) }),
    ...(input.upgrade && { upgrade: input.upgrade }),
  };
  const upgrade = input.upgrade;
  const desired: [string, ComponentStatus | undefined, number][] = [
    ['gateway', status.gateway, spec.gateway.replicas],
    ['message-service', status.messageService, input.workerReplicas],
    ['nats', status.nats, spec.nats.replicas],
    ['redis', status.redis, 1],
    ['mongodb', status.mongodb, spec.mongodb.external ? 0 : spec.mongodb.replicas],
  ];
  const notReady = desired
    .filter(([, s, want]) => want > 0 && (s?.readyReplicas ?? 0) < want)
    .map(([name, s, want]) => `${name} ${s?.readyReplicas ?? 0}/${want}`);
  const objects: Record<string, Workload | undefined> = {
    gateway: children.gateway,
    'message-service': children.messageService,
    nats: children.nats,
    redis: children.redis,
    mongodb: children.mongodb,
  };
  const rolling = desired.filter(([name, , want]) => want > 0 && !rolledOut(objects[name], want)).map(([name]) => name);
  // Ready: serving with every desired replica ready (possibly some still on the old spec).
  const ready = notReady.length === 0 && input.applyErrors.length === 0 && references.length === 0;
  const settled = ready && rolling.length === 0;
  let conditions = input.previous ?? [];
  conditions = setCondition(
    conditions,
    ready
      ? { type: 'Ready', status: 'True', reason: 'AllComponentsReady', message: 'every component has its desired ready replicas', observedGeneration: generation }
      : {
          type: 'Ready',
          status: 'False',
          reason: references.length ? 'InvalidReference' : input.applyErrors.length ? 'ApplyFailed' : 'ComponentsNotReady',
          message: references.length
            ? references.join('; ')
            : notReady.length
              ? `waiting for ${notReady.join(', ')}`
              : 'some children could not be applied',
          observedGeneration: generation,
        },
    now,
  );
  conditions = setCondition(
    conditions,
    upgrade?.phase === 'Preflight'
      ? { type: 'Progressing', status: 'True', reason: 'Preflight', message: upgrade.message, observedGeneration: generation }
      : upgrade?.phase === 'PreflightFailed'
      ? { type: 'Progressing', status: 'False', reason: 'PreflightFailed', message: `not rolling out ${upgrade.targetVersion}: its preflight failed`, observedGeneration: generation }
      : settled
      ? { type: 'Progressing', status: 'False', reason: 'ReconcileComplete', message: `generation ${generation} is rolled out`, observedGeneration: generation }
      : {
          type: 'Progressing',
          status: 'True',
          reason: 'RollingOut',
          message: `rolling out generation ${generation}${rolling.length ? `: updating ${rolling.join(', ')}` : ''}`,
          observedGeneration: generation,
        },
    now,
  );
  conditions = setCondition(
    conditions,
    references.length
      ? { type: 'Degraded', status: 'True', reason: 'InvalidReference', message: references.join('; '), observedGeneration: generation }
      : input.applyErrors.length
      ? { type: 'Degraded', status: 'True', reason: 'ApplyFailed', message: input.applyErrors.join('; ').slice(0, 2000), observedGeneration: generation }
      : upgrade?.phase === 'PreflightFailed'
      ? { type: 'Degraded', status: 'True', reason: 'PreflightFailed', message: upgrade.message.slice(0, 2000), observedGeneration: generation }
      : { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'all children applied', observedGeneration: generation },
    now,
  );
  return { ...status, conditions };
}

/**
 * Status for a spec the operator will not act on: what the schema could not reject (InvalidSpec),
 * or what the administrator's allowlist refuses (NotAllowed).
 */
export function invalidSpecStatus(
  generation: number,
  previous: Condition[] | undefined,
  message: string,
  now = new Date(),
  reason: 'InvalidSpec' | 'NotAllowed' = 'InvalidSpec',
): ReconcilerStatus {
  let conditions = previous ?? [];
  conditions = setCondition(conditions, { type: 'Ready', status: 'False', reason, message, observedGeneration: generation }, now);
  conditions = setCondition(
    conditions,
    { type: 'Progressing', status: 'False', reason, message: 'fix the spec to continue', observedGeneration: generation },
    now,
  );
  conditions = setCondition(conditions, { type: 'Degraded', status: 'True', reason, message, observedGeneration: generation }, now);
  return { observedGeneration: generation, conditions };
}
