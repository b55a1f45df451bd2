import { z } from 'zod';
import type { UpgradePhase, UpgradeStatus } from '../api/chatcluster.js';
import type { Job, Pod } from '../kube/object-types.js';

/**
 * The verified upgrade (docs/operator.md): a changed image or version first runs the new
 * version's preflight Job against the live platform; only when it passes do the workloads get the
 * new image. Pure: what to render and what status says, from what was observed.
 */

/** `repo[:port]/path:tag` -> repository and tag (the tag is after the last ':' following the last '/'). */
export function splitImage(ref: string): { image: string; version: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? { image: ref.slice(0, colon), version: ref.slice(colon + 1) } : { image: ref, version: 'latest' };
}

export type PreflightOutcome =
  | { state: 'running' }
  | { state: 'passed'; passed: string[] }
  | { state: 'failed'; check: string; detail: string };

export interface UpgradeDecision {
  /** The image every Chorus workload is rendered with. */
  renderImage: string;
  /** Whether the target's preflight Job is wanted: while it runs or failed, and once passed until the next change. */
  wantPreflight: boolean;
  upgrade: UpgradeStatus;
  event?: { type: 'Normal' | 'Warning'; reason: 'PreflightStarted' | 'PreflightPassed' | 'PreflightFailed'; message: string };
}

export function decideUpgrade(input: {
  targetImage: string;
  /** What status says runs; absent on a ChatCluster from before verified upgrades. */
  previous: UpgradeStatus | undefined;
  /** The gateway Deployment's image as the API holds it (absent: a new ChatCluster). */
  liveImage: string | undefined;
  /** The target's preflight Job, if it exists. */
  preflight: PreflightOutcome | undefined;
  preflightJob: string;
  /** Whether the gateways and message-services run this image everywhere. */
  rolledOut: (image: string) => boolean;
  now?: Date;
}): UpgradeDecision {
  const now = (input.now ?? new Date()).toISOString();
  const target = splitImage(input.targetImage);
  const current = input.previous?.currentImage ?? input.liveImage ?? input.targetImage;
  const status = (image: string, phase: UpgradePhase, message: string, extra: Partial<UpgradeStatus> = {}): UpgradeStatus => ({
    currentVersion: splitImage(image).version,
    targetVersion: target.version,
    currentImage: image,
    phase,
    ...extra,
    message,
    lastTransitionTime: input.previous?.phase === phase && input.previous.targetVersion === target.version ? (input.previous.lastTransitionTime ?? now) : now,
  });

  if (current === input.targetImage) {
    const done = input.rolledOut(current);
    // The passed preflight of the running version stays (its log is the record) until the next change.
    const keep = input.previous?.preflightJob === input.preflightJob;
    return {
      renderImage: current,
      wantPreflight: keep,
      upgrade: status(current, done ? 'Complete' : 'RollingOut', done ? `running ${target.version}` : `rolling out ${target.version}`, keep ? { preflightJob: input.preflightJob } : {}),
    };
  }
  const from = splitImage(current).version;
  const outcome = input.preflight ?? { state: 'running' };
  if (outcome.state === 'passed') {
    return {
      renderImage: input.targetImage,
      wantPreflight: true,
      upgrade: status(input.targetImage, 'RollingOut', `preflight of ${target.version} passed; rolling out ${from} -> ${target.version}`, { preflightJob: input.preflightJob }),
      event: { type: 'Normal', reason: 'PreflightPassed', message: `preflight of ${target.version} passed (${outcome.passed.join(', ')}); rolling out ${from} -> ${target.version}` },
    };
  }
  if (outcome.state === 'failed') {
    const message = `preflight of ${target.version} failed: check ${outcome.check}: ${outcome.detail}; ${from} keeps serving`;
    const first = !(input.previous?.phase === 'PreflightFailed' && input.previous.preflightJob === input.preflightJob);
    return {
      renderImage: current,
      wantPreflight: true,
      upgrade: status(current, 'PreflightFailed', message, { preflightJob: input.preflightJob, failedCheck: outcome.check }),
      ...(first && { event: { type: 'Warning' as const, reason: 'PreflightFailed' as const, message } }),
    };
  }
  const first = !(input.previous?.phase === 'Preflight' && input.previous.preflightJob === input.preflightJob);
  return {
    renderImage: current,
    wantPreflight: true,
    upgrade: status(current, 'Preflight', `checking ${target.version} against the live platform (Job ${input.preflightJob}) before rolling out; ${from} keeps serving`, { preflightJob: input.preflightJob }),
    ...(first && { event: { type: 'Normal' as const, reason: 'PreflightStarted' as const, message: `checking ${target.version} against the live platform (Job ${input.preflightJob}) before rolling ${from} out` } }),
  };
}

/** What the preflight writes to its termination message (loadtest/src/preflight/check-result.ts). */
const preflightSummary = z.object({
  ok: z.boolean(),
  version: z.string(),
  failed: z.object({ check: z.string(), detail: z.string() }).optional(),
  passed: z.array(z.string()),
});

/**
 * A Job's outcome: running, or passed/failed with what its container said. A container that
 * ended without a summary (killed at the deadline, never started) fails as the Job says.
 */
export function preflightOutcome(job: Job, pods: Pod[]): PreflightOutcome {
  const failedCondition = job.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
  const succeeded = (job.status?.succeeded ?? 0) > 0;
  if (!succeeded && !failedCondition && (job.status?.failed ?? 0) === 0) return { state: 'running' };
  const message = pods
    .flatMap((p) => p.status?.containerStatuses ?? [])
    .find((c) => c.name === 'preflight' && c.state?.terminated)?.state?.terminated?.message;
  let summary: z.infer<typeof preflightSummary> | undefined;
  try {
    const parsed = preflightSummary.safeParse(JSON.parse(message ?? ''));
    if (parsed.success) summary = parsed.data;
  } catch {
    // not JSON: the logs' tail (FallbackToLogsOnError), used as the detail below
  }
  if (succeeded) return { state: 'passed', passed: summary?.passed ?? [] };
  if (summary?.failed) return { state: 'failed', check: summary.failed.check, detail: summary.failed.detail };
  return {
    state: 'failed',
    check: failedCondition?.reason ?? 'job',
    detail: (failedCondition?.message ?? message?.trim().split('\n').slice(-3).join(' | ')) || 'the preflight Job failed without a result',
  };
}
