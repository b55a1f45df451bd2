import type { KubeObject } from './kube-object.js';

/**
 * The fields of built-in kinds the operator reads, as the API server sends them (JSON: times are
 * strings). Everything else on an object stays `unknown`, so nothing here claims more than is used.
 */

/** A Deployment's or StatefulSet's rollout, as `kubectl rollout status` reads it. */
export interface WorkloadStatus {
  replicas?: number;
  readyReplicas?: number;
  updatedReplicas?: number;
  observedGeneration?: number;
}

/** Deployment and StatefulSet. */
export interface Workload extends KubeObject {
  spec?: { replicas?: number; [field: string]: unknown };
  status?: WorkloadStatus;
}

export interface Secret extends KubeObject {
  type?: string;
  /** Base64 values. */
  data?: Record<string, string>;
  /** Plain values; write-only (the server folds them into data). */
  stringData?: Record<string, string>;
}

export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

/** A Pod, for the termination message of a finished Job's container. */
export interface Pod extends KubeObject {
  status?: {
    phase?: string;
    containerStatuses?: { name: string; state?: { terminated?: { exitCode?: number; reason?: string; message?: string } } }[];
  };
}

/** A Job's outcome. */
export interface Job extends KubeObject {
  status?: { active?: number; succeeded?: number; failed?: number; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

/** coordination.k8s.io/v1; times are MicroTime (RFC 3339 with microseconds). */
export interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** core/v1 Event, as the operator records them. */
export interface KubeEvent extends KubeObject {
  involvedObject: { apiVersion: string; kind: string; name?: string; namespace?: string; uid?: string; resourceVersion?: string };
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}
