import type { KubeObject } from '../kube/kube-object.js';
import { dataVolumeClaim } from './data-volume-claim.js';
import { resourcesFor, serviceHost, type BuildContext } from './build-context.js';
import { childMeta, labels, names, selectorLabels, shortHash } from './naming.js';
import { mongodbAuthKeys, mongodbRootEnv, mongodbRootUser } from './mongodb-secrets.js';
import { topologySpread } from './topology-spread.js';
import { containerSecurityContext, podSecurityContext, spreadAcrossNodes, tmpMount, tmpVolume, uids } from './pod-security.js';

export const replicaSetName = 'rs0';

function memberHosts(ctx: BuildContext): string[] {
  const headless = serviceHost(names.mongodbHeadless(ctx.name), ctx.namespace);
  return Array.from({ length: ctx.spec.mongodb.replicas }, (_, i) => `${names.mongodb(ctx.name)}-${i}.${headless}:27017`);
}

/** The in-cluster replica set's connection string (seed list of every member), as the root user. */
export function mongodbUri(ctx: BuildContext, password: string): string {
  return `mongodb://${mongodbRootUser}:${encodeURIComponent(password)}@${memberHosts(ctx).join(',')}/?replicaSet=${replicaSetName}&authSource=admin`;
}

const keyfileDir = '/var/run/mongodb-keyfile';
const dataDir = '/data/db';

/**
 * mongod's start. On the first start of member 0 (an empty data directory) it runs once without
 * --replSet on 127.0.0.1 to create the root user from the Secret (the localhost exception: no user
 * exists yet), as the official image's entrypoint does; a marker file makes an interrupted first
 * start try again. Every member then runs with --keyFile, which turns authentication on.
 */
export const mongodStartScript = [
  'set -e',
  `if [ "\${HOSTNAME##*-}" = 0 ] && [ -z "$(ls -A ${dataDir} | grep -v '^lost+found$')" ]; then touch ${dataDir}/.chorus-root-user-pending; fi`,
  `if [ -f ${dataDir}/.chorus-root-user-pending ]; then`,
  `  mongod --dbpath ${dataDir} --bind_ip 127.0.0.1 --port 27017 --fork --logpath /tmp/mongod-first-start.log --pidfilepath /tmp/mongod-first-start.pid`,
  `  mongosh --quiet admin --eval 'db.getUser(process.env.MONGO_ROOT_USERNAME) || db.createUser({ user: process.env.MONGO_ROOT_USERNAME, pwd: process.env.MONGO_ROOT_PASSWORD, roles: ["root"] })'`,
  `  mongod --dbpath ${dataDir} --shutdown`,
  `  rm ${dataDir}/.chorus-root-user-pending`,
  'fi',
  `exec mongod --replSet ${replicaSetName} --bind_ip_all --dbpath ${dataDir} --keyFile ${keyfileDir}/keyfile`,
].join('\n');

/** mongod refuses a key file readable by its group, which a Secret volume with fsGroup always is: copy it with mode 0400. */
function keyfileInitContainer(ctx: BuildContext): Record<string, unknown> {
  return {
    name: 'keyfile',
    image: ctx.spec.mongodb.image,
    command: ['sh', '-c', `cp /var/run/mongodb-auth/keyfile ${keyfileDir}/keyfile && chmod 0400 ${keyfileDir}/keyfile`],
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
    securityContext: containerSecurityContext,
    volumeMounts: [{ name: 'auth', mountPath: '/var/run/mongodb-auth', readOnly: true }, { name: 'keyfile', mountPath: keyfileDir }],
  };
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
          initContainers: [keyfileInitContainer(ctx)],
          containers: [
            {
              name: 'mongodb',
              image: spec.mongodb.image,
              command: ['sh', '-c', mongodStartScript],
              env: mongodbRootEnv(ctx),
              ports: [{ name: 'mongodb', containerPort: 27017, protocol: 'TCP' }],
              resources: resourcesFor(spec.mongodb.resources, 'mongodb'),
              livenessProbe: { ...ping, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
              readinessProbe: { ...ping, periodSeconds: 10, timeoutSeconds: 5 },
              startupProbe: { ...ping, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 60 },
              securityContext: containerSecurityContext,
              volumeMounts: [
                { name: 'data', mountPath: dataDir },
                { name: 'configdb', mountPath: '/data/configdb' },
                { name: 'keyfile', mountPath: keyfileDir, readOnly: true },
                tmpMount,
              ],
            },
          ],
          volumes: [
            { name: 'configdb', emptyDir: {} },
            { name: 'keyfile', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
            { name: 'auth', secret: { secretName: names.mongodbAuth(name), items: [{ key: mongodbAuthKeys.keyfile, path: 'keyfile' }], defaultMode: 0o400 } },
            tmpVolume,
          ],
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
    // As the root user (member 0 created it on its first start); the password comes from env, not the spec.
    `mongosh --quiet --host '${hosts[0]}' -u "$MONGO_ROOT_USERNAME" -p "$MONGO_ROOT_PASSWORD" --authenticationDatabase admin --eval 'try { rs.status().ok } catch (e) { rs.initiate(${JSON.stringify(config)}).ok }'`,
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
              env: mongodbRootEnv(ctx),
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
