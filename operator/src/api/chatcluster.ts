import type { KubeObject } from '../kube/kube-object.js';

export const group = 'chorus.dev';
export const version = 'v1alpha1';
export const apiVersion = `${group}/${version}`;
export const kind = 'ChatCluster';

export type ConditionType = 'Ready' | 'Progressing' | 'Degraded';

export interface Condition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export interface ComponentStatus {
  replicas?: number;
  readyReplicas?: number;
  /** "ready/desired", for printer columns. */
  summary?: string;
  selector?: string;
}

export type UpgradePhase = 'Complete' | 'Preflight' | 'PreflightFailed' | 'RollingOut';

/** The verified upgrade of spec.version (reconcile/upgrade.ts). */
export interface UpgradeStatus {
  currentVersion: string;
  targetVersion: string;
  currentImage: string;
  phase: UpgradePhase;
  preflightJob?: string;
  failedCheck?: string;
  message: string;
  lastTransitionTime?: string;
}

export interface ChatClusterStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  gateway?: ComponentStatus;
  messageService?: ComponentStatus;
  nats?: ComponentStatus;
  redis?: ComponentStatus;
  mongodb?: ComponentStatus;
  upgrade?: UpgradeStatus;
  batching?: { mode?: string; batchSize?: number; flushIntervalMs?: number; source?: string };
  autopilot?: {
    queueDepth?: number;
    ratePerSecond?: number;
    desiredReplicas?: number;
    lastObservedTime?: string;
    lastScaleTime?: string;
    error?: string;
  };
}

/** A ChatCluster as read from the API: spec is unvalidated until parseSpec() says otherwise. */
export interface ChatCluster extends KubeObject {
  spec?: unknown;
  status?: ChatClusterStatus;
}
