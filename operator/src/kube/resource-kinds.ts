/**
 * The API resources the operator reads or writes: one table with each kind's apiVersion, REST
 * plural, scope and the TypeScript type of its objects, so `client.get(kinds.Lease, ...)` returns
 * a Lease and a list or watch of Deployments yields Workloads, with no kind string at the call.
 * A fixed table instead of discovery: the operator only ever touches these kinds, and the RBAC
 * rules in docs/operator.md list exactly them.
 */
import type { ChatCluster } from '../api/chatcluster.js';
import type { KubeObject } from './kube-object.js';
import type { ConfigMap, Job, KubeEvent, Lease, Pod, Secret, Workload } from './object-types.js';

export interface ResourceKind<T extends KubeObject = KubeObject> {
  readonly kind: string;
  readonly apiVersion: string;
  readonly plural: string;
  readonly namespaced: boolean;
  /** Type only, never set: the objects of this kind (lets calls infer T from the kind). */
  readonly objectType?: T;
}

function kind<T extends KubeObject>(kind: string, apiVersion: string, plural: string, namespaced = true): ResourceKind<T> {
  return Object.freeze({ kind, apiVersion, plural, namespaced });
}

export const kinds = {
  ChatCluster: kind<ChatCluster>('ChatCluster', 'chorus.dev/v1alpha1', 'chatclusters'),
  Deployment: kind<Workload>('Deployment', 'apps/v1', 'deployments'),
  StatefulSet: kind<Workload>('StatefulSet', 'apps/v1', 'statefulsets'),
  Service: kind<KubeObject>('Service', 'v1', 'services'),
  ConfigMap: kind<ConfigMap>('ConfigMap', 'v1', 'configmaps'),
  Secret: kind<Secret>('Secret', 'v1', 'secrets'),
  PodDisruptionBudget: kind<KubeObject>('PodDisruptionBudget', 'policy/v1', 'poddisruptionbudgets'),
  Job: kind<Job>('Job', 'batch/v1', 'jobs'),
  /** Read only: a finished preflight Job's pod, for its termination message. */
  Pod: kind<Pod>('Pod', 'v1', 'pods'),
  Ingress: kind<KubeObject>('Ingress', 'networking.k8s.io/v1', 'ingresses'),
  NetworkPolicy: kind<KubeObject>('NetworkPolicy', 'networking.k8s.io/v1', 'networkpolicies'),
  Event: kind<KubeEvent>('Event', 'v1', 'events'),
  Lease: kind<Lease>('Lease', 'coordination.k8s.io/v1', 'leases'),
} as const;

export type KindName = keyof typeof kinds;

/** The table entry of an object's `kind` (for objects that carry it: apply, create, replace, pruning). */
export function kindOf(name: string): ResourceKind {
  if (!Object.hasOwn(kinds, name)) throw new Error(`the operator does not manage kind ${name}`);
  return kinds[name as KindName];
}

/** REST path of a collection (name undefined) or an object, optionally a subresource. */
export function resourcePath(k: ResourceKind, namespace: string | undefined, name?: string, subresource?: string): string {
  const base = k.apiVersion.includes('/') ? `/apis/${k.apiVersion}` : `/api/${k.apiVersion}`;
  let path = base;
  if (k.namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${k.plural}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (subresource) path += `/${subresource}`;
  return path;
}
