import { createHash } from 'node:crypto';
import { apiVersion, kind, type ChatCluster } from '../api/chatcluster.js';
import type { ObjectMeta, OwnerReference } from '../kube/kube-object.js';

/** The operator's field manager for server-side apply and its label value. */
export const fieldManager = 'chorus-operator';
export const managedByLabel = 'app.kubernetes.io/managed-by';
export const instanceLabel = 'app.kubernetes.io/instance';
export const componentLabel = 'app.kubernetes.io/component';

export type Component = 'gateway' | 'message-service' | 'nats' | 'redis' | 'mongodb' | 'loadtest' | 'preflight' | 'config';

/** Child object names: "<cluster>-<component>[-<suffix>]". */
export const names = {
  gateway: (cr: string) => `${cr}-gateway`,
  messageService: (cr: string) => `${cr}-message-service`,
  nats: (cr: string) => `${cr}-nats`,
  natsHeadless: (cr: string) => `${cr}-nats-headless`,
  natsConfig: (cr: string) => `${cr}-nats-config`,
  natsUsers: (cr: string) => `${cr}-nats-users`,
  redis: (cr: string) => `${cr}-redis`,
  redisHeadless: (cr: string) => `${cr}-redis-headless`,
  /** The Redis password (a Secret; the StatefulSet of the same name is another kind). */
  redisSecret: (cr: string) => `${cr}-redis`,
  mongodb: (cr: string) => `${cr}-mongodb`,
  mongodbHeadless: (cr: string) => `${cr}-mongodb-headless`,
  mongodbInit: (cr: string, hash: string) => `${cr}-mongodb-init-${hash}`,
  /** The in-cluster MongoDB's root user, password and replica-set key (created once). */
  mongodbAuth: (cr: string) => `${cr}-mongodb-auth`,
  /** The services' MONGODB_URI for the in-cluster MongoDB, credentials included. */
  mongodbUri: (cr: string) => `${cr}-mongodb-uri`,
  networkPolicy: (cr: string, policy: string) => `${cr}-netpol-${policy}`,
  config: (cr: string) => `${cr}-config`,
  tokenSecret: (cr: string) => `${cr}-token`,
  adminSecret: (cr: string) => `${cr}-admin`,
  gatewayMetrics: (cr: string) => `${cr}-gateway-metrics`,
  loadtest: (cr: string) => `${cr}-loadtest`,
  loadtestJob: (cr: string, hash: string) => `${cr}-loadtest-${hash}`,
  preflightJob: (cr: string, hash: string) => `${cr}-preflight-${hash}`,
};

/** Labels that select one component's pods (stable: never change them on a live object). */
export function selectorLabels(cr: string, component: Component): Record<string, string> {
  return { 'app.kubernetes.io/name': 'chorus', [instanceLabel]: cr, [componentLabel]: component };
}

export function labels(cr: string, component: Component, version?: string): Record<string, string> {
  return {
    ...selectorLabels(cr, component),
    'app.kubernetes.io/part-of': 'chorus',
    [managedByLabel]: fieldManager,
    ...(version && { 'app.kubernetes.io/version': version }),
  };
}

/** The controller reference every child carries, so deleting the ChatCluster deletes them (GC). */
export function ownerReference(cr: ChatCluster): OwnerReference {
  return {
    apiVersion,
    kind,
    name: cr.metadata.name!,
    uid: cr.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function childMeta(cr: ChatCluster, name: string, component: Component, version?: string): ObjectMeta {
  return {
    name,
    namespace: cr.metadata.namespace!,
    labels: labels(cr.metadata.name!, component, version),
    ownerReferences: [ownerReference(cr)],
  };
}

/** Short stable hash of any JSON value: config checksums on pod templates, immutable Job names. */
export function shortHash(value: unknown, length = 10): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, length);
}
