import type { KubeObject } from '../kube/kube-object.js';
import { dataVolumeClaim } from './data-volume-claim.js';
import { resourcesFor, serviceHost, type BuildContext } from './build-context.js';
import { childMeta, labels, names, selectorLabels, shortHash } from './naming.js';
import { topologySpread } from './topology-spread.js';
import { containerSecurityContext, podSecurityContext, spreadAcrossNodes, tmpMount, tmpVolume, uids } from './pod-security.js';

export const replicaSetName = 'rs0';

function memberHosts(ctx: BuildContext): string[] {
  const headless = serviceHost(names.mongodbHeadless(ctx.name), ctx.namespace);
  return Array.from({ length: ctx.spec.mongodb.replicas }, (_, i) => `${names.mongodb(ctx.name)}-${i}.${headless}:27017`);
}

/** The in-cluster replica set's connection string (seed list of every member). */
export function mongodbUri(ctx: BuildContext): string {
  return `mongodb://${memberHosts(ctx).join(',')}/?replicaSet=${replicaSetName}`;
}

export function mongodbHeadlessService(ctx: BuildContext): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(ctx.cr, names.mongodbHeadless(ctx.name), 'mongodb'),
    spec: {
      clusterIP: 'None',
      publishNotReadyAddresses: true, // members must find each other before rs0 is initiated
      selector: selectorLabels(ctx.name, 'mongodb'),
      ports: [{ name: 'mongodb', port: 27017, targetPort: 'mongodb', protocol: 'TCP' }],
    },
  };
}

export function mongodbStatefulSet(ctx: BuildContext): KubeObject {
  const { spec, name, cr } = ctx;
  const ping = { exec: { command: ['mongosh', '--quiet', '--eval', 'db.adminCommand("ping").ok'] } };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: childMeta(cr, names.mongodb(name), 'mongodb'),
    spec: {
      replicas: spec.mongodb.replicas,
      serviceName: names.mongodbHeadless(name),
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: selectorLabels(name, 'mongodb') },
      template: {
        metadata: { labels: labels(name, 'mongodb') },
        spec: {
          affinity: spreadAcrossNodes(selectorLabels(name, 'mongodb')),
          topologySpreadConstraints: topologySpread(selectorLabels(name, 'mongodb')),
          automountServiceAccountToken: false,
          securityContext: podSecurityContext(uids.mongodb, true),
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: 'mongodb',
              image: spec.mongodb.image,
              command: ['mongod', '--replSet', replicaSetName, '--bind_ip_all', '--dbpath', '/data/db'],
              ports: [{ name: 'mongodb', containerPort: 27017, protocol: 'TCP' }],
              resources: resourcesFor(spec.mongodb.resources, 'mongodb'),
              livenessProbe: { ...ping, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
              readinessProbe: { ...ping, periodSeconds: 10, timeoutSeconds: 5 },
              startupProbe: { ...ping, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 60 },
              securityContext: containerSecurityContext,
              volumeMounts: [{ name: 'data', mountPath: '/data/db' }, { name: 'configdb', mountPath: '/data/configdb' }, tmpMount],
            },
          ],
          volumes: [{ name: 'configdb', emptyDir: {} }, tmpVolume],
        },
      },
      volumeClaimTemplates: [dataVolumeClaim(spec.mongodb)],
    },
  };
}

/**
 * One-shot Job that initiates replica set rs0 once the members answer (idempotent: it does
 * nothing when rs0 already exists). Job templates are immutable, so the name carries a hash of
 * the member list and a changed member list gets a new Job.
 */
export function mongodbInitJob(ctx: BuildContext): KubeObject {
  const { spec, name, cr } = ctx;
  const hosts = memberHosts(ctx);
  const config = { _id: replicaSetName, members: hosts.map((host, i) => ({ _id: i, host })) };
  const script = [
    `until mongosh --quiet --host '${hosts[0]}' --eval 'db.adminCommand("ping").ok' >/dev/null 2>&1; do sleep 2; done`,
    `mongosh --quiet --host '${hosts[0]}' --eval 'try { rs.status().ok } catch (e) { rs.initiate(${JSON.stringify(config)}).ok }'`,
  ].join('\n');
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: childMeta(cr, names.mongodbInit(name, shortHash(config, 8)), 'mongodb'),
    spec: {
      backoffLimit: 20,
      ttlSecondsAfterFinished: 3600,
      template: {
        metadata: { labels: labels(name, 'mongodb') },
        spec: {
          restartPolicy: 'OnFailure',
          automountServiceAccountToken: false,
          securityContext: podSecurityContext(uids.mongodb),
          containers: [
            {
              name: 'init-replica-set',
              image: spec.mongodb.image,
              command: ['sh', '-c', script],
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
              securityContext: containerSecurityContext,
              volumeMounts: [tmpMount],
            },
          ],
          volumes: [tmpVolume],
        },
      },
    },
  };
}
