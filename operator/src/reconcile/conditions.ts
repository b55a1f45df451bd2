import type { Condition, ConditionType } from '../api/chatcluster.js';

/**
 * Sets a condition in a list the way apimachinery's meta.SetStatusCondition does: the
 * lastTransitionTime changes only when the status flips.
 */
export function setCondition(
  conditions: Condition[],
  next: { type: ConditionType; status: Condition['status']; reason: string; message: string; observedGeneration?: number },
  now: Date = new Date(),
): Condition[] {
  const existing = conditions.find((c) => c.type === next.type);
  const lastTransitionTime = existing && existing.status === next.status ? existing.lastTransitionTime : now.toISOString();
  const condition: Condition = { ...next, lastTransitionTime };
  return [...conditions.filter((c) => c.type !== next.type), condition].sort((a, b) => order(a.type) - order(b.type));
}

function order(type: ConditionType): number {
  return ['Ready', 'Progressing', 'Degraded'].indexOf(type);
}

export function findCondition(conditions: Condition[] | undefined, type: ConditionType): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
