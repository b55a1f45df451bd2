import type { ChatCluster } from '../api/chatcluster.js';
import { names } from './naming.js';
import { defaultResources, type ChatClusterSpec, type ResourceRequirements } from '../api/chatcluster-spec.js';

/** Everything a builder needs: the ChatCluster, its validated spec, and what the autopilot decided. */
export interface BuildContext {
  cr: ChatCluster;
  spec: ChatClusterSpec;
  name: string;
  namespace: string;
  /** Message-service replicas: the autopilot's choice clamped to min/max, or minReplicas. */
  workerReplicas: number;
  /** The in-cluster MongoDB's root password, read from its create-once Secret (undefined until it exists). */
  mongodbPassword?: string;
  /** The operator's own namespace, so NetworkPolicies can let its pods reach NATS and metrics. */
  operatorNamespace?: string;
}

export function buildContext(
  cr: ChatCluster,
  spec: ChatClusterSpec,
  extra: { mongodbPassword?: string | undefined; operatorNamespace?: string | undefined } = {},
): BuildContext {
  const { minReplicas, maxReplicas } = spec.messageService;
  const wanted = cr.status?.autopilot?.desiredReplicas ?? minReplicas;
  return {
    cr,
    spec,
    name: cr.metadata.name!,
    namespace: cr.metadata.namespace!,
    workerReplicas: Math.min(maxReplicas, Math.max(minReplicas, wanted)),
    ...(extra.mongodbPassword !== undefined && { mongodbPassword: extra.mongodbPassword }),
    ...(extra.operatorNamespace && { operatorNamespace: extra.operatorNamespace }),
  };
}

export function chorusImage(spec: ChatClusterSpec): string {
  return `${spec.image}:${spec.version}`;
}

/** The parts every container of the one Chorus image shares; `command` picks the entry point. */
export function chorusContainer(spec: ChatClusterSpec, name: string, command: string[]) {
  return { name, image: chorusImage(spec), imagePullPolicy: spec.imagePullPolicy, workingDir: '/app', command };
}

/**
 * MONGODB_URI for the containers that talk to MongoDB, always from a Secret: the external
 * MongoDB's (spec.mongodb.external.uriSecretRef) or the in-cluster one's `<name>-mongodb-uri`.
 */
export function mongodbUriEnv(ctx: BuildContext) {
  const ref = ctx.spec.mongodb.external?.uriSecretRef ?? { name: names.mongodbUri(ctx.name), key: 'uri' };
  return [{ name: 'MONGODB_URI', valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } }];
}

export function resourcesFor(given: ResourceRequirements | undefined, component: keyof typeof defaultResources): ResourceRequirements {
  return given && (given.requests || given.limits) ? given : defaultResources[component];
}

/** In-cluster DNS name of a Service. */
export function serviceHost(service: string, namespace: string): string {
  return `${service}.${namespace}.svc`;
}
