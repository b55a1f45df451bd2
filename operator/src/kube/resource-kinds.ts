/**
 * The API resources the operator reads or writes, with their REST paths. A fixed table instead
 * of discovery: the operator only ever touches these kinds, and the RBAC rules in
 * docs/operator.md list exactly them.
 */
export interface ResourceKind {
  kind: string;
  apiVersion: string;
  plural: string;
  namespaced: boolean;
}

function kind(kind: string, apiVersion: string, plural: string, namespaced = true): ResourceKind {
  return { kind, apiVersion, plural, namespaced };
}

export const kinds = {
  ChatCluster: kind('ChatCluster', 'chorus.dev/v1alpha1', 'chatclusters'),
  Deployment: kind('Deployment', 'apps/v1', 'deployments'),
  StatefulSet: kind('StatefulSet', 'apps/v1', 'statefulsets'),
  Service: kind('Service', 'v1', 'services'),
  ConfigMap: kind('ConfigMap', 'v1', 'configmaps'),
  Secret: kind('Secret', 'v1', 'secrets'),
  PodDisruptionBudget: kind('PodDisruptionBudget', 'policy/v1', 'poddisruptionbudgets'),
  Job: kind('Job', 'batch/v1', 'jobs'),
  Ingress: kind('Ingress', 'networking.k8s.io/v1', 'ingresses'),
  Event: kind('Event', 'v1', 'events'),
  Lease: kind('Lease', 'coordination.k8s.io/v1', 'leases'),
} as const;

export type KindName = keyof typeof kinds;

export function kindOf(name: string): ResourceKind {
  const found = (kinds as Record<string, ResourceKind>)[name];
  if (!found) throw new Error(`the operator does not manage kind ${name}`);
  return found;
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
