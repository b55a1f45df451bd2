/** What the saturation search needs from one step (one steady load run at a fixed offered rate). */
export interface StepResult {
  offeredSendsPerSec: number;
  /** Deliveries owed per second of the send phase (offered x fan-out). */
  expectedDeliveriesPerSec: number;
  /** Deliveries made / (send phase + drain): the rate the target sustained. */
  deliveredPerSec: number;
  deliveryP99Ms: number;
  lost: number;
  errors: number;
}

export interface SaturationRules {
  /** A step keeps up when it delivers at least this share of what it was offered... */
  keepUpShare: number;
  /** ...with delivery p99 at most this. Above it, latency has "exploded". */
  p99LimitMs: number;
  /** The search stops when the delivered rate rose by less than this factor over the last step. */
  minGrowth: number;
}

export const defaultSaturationRules: SaturationRules = { keepUpShare: 0.9, p99LimitMs: 1000, minGrowth: 1.05 };

export function keepsUp(step: StepResult, rules: SaturationRules): boolean {
  return (
    step.lost === 0 &&
    step.errors === 0 &&
    step.deliveryP99Ms <= rules.p99LimitMs &&
    step.deliveredPerSec >= rules.keepUpShare * step.expectedDeliveriesPerSec
  );
}

/** Whether to try a higher rate after `steps` (the newest last). */
export function shouldContinue(steps: readonly StepResult[], rules: SaturationRules): boolean {
  const last = steps[steps.length - 1];
  if (!last) return true;
  if (!keepsUp(last, rules)) return false;
  const previous = steps[steps.length - 2];
  return previous === undefined || last.deliveredPerSec >= previous.deliveredPerSec * rules.minGrowth;
}

/**
 * The saturation point: the step with the highest delivered rate among those that kept up. Undefined
 * when even the first step could not keep up (start lower).
 */
export function saturationPoint(steps: readonly StepResult[], rules: SaturationRules): StepResult | undefined {
  let best: StepResult | undefined;
  for (const step of steps) if (keepsUp(step, rules) && (!best || step.deliveredPerSec > best.deliveredPerSec)) best = step;
  return best;
}
