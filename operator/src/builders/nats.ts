import { natsAuthorizationBlock, natsUsers, passwordEnvOf, routePasswordEnv, routeUser } from '@chorus/shared/bus/nats-permissions';
import type { KubeObject } from '../kube/kube-object.js';
import { dataVolumeClaim } from './data-volume-claim.js';
import { resourcesFor, serviceHost, type BuildContext } from './build-context.js';
import { childMeta, labels, names, selectorLabels, shortHash } from './naming.js';
import { topologySpread } from './topology-spread.js';
import { containerSecurityContext, podSecurityContext, spreadAcrossNodes, uids } from './pod-security.js';

/**
 * nats.conf: JetStream on file storage, monitoring on 8222, the users and permissions of
 * nats-permissions.ts (no anonymous clients), and routes when clustered, which must log in too.
 * No password is in it: each is an env variable from the nats-users Secret (natsStatefulSet).
 */
export function natsConfig(ctx: BuildContext): string {
  const { spec, name } = ctx;
  const lines = [
    'server_name: $SERVER_NAME',
    'listen: 0.0.0.0:4222',
    'http: 0.0.0.0:8222',
    // nats-server 2.10+ refuses a lame-duck duration below 30 s (the config fails to load).
    'lame_duck_duration: 30s',
    'lame_duck_grace_period: 5s',
    'jetstream {',
    '  store_dir: /data/jetstream',
    `  max_file_store: ${toNatsSize(spec.nats.storageSize)}`,
    '}',
    natsAuthorizationBlock(),
  ];
  if (spec.nats.replicas > 1) {
    // The route URLs carry the route password, so they come from the env (ROUTE_URLS, natsRouteEnv).
    lines.push(
      'cluster {',
      `  name: ${name}`,
      '  listen: 0.0.0.0:6222',
      `  authorization { user: ${routeUser}, password: $${routePasswordEnv} }`,
      '  routes: $ROUTE_URLS',
      '}',
    );
  }
  return lines.join('\n') + '\n';
}

/** Kubernetes quantities (1Gi) to nats sizes (1G); nats treats G as GiB. */
function toNatsSize(quantity: string): string {
  const match = /^([0-9.]+)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  if (!match) return quantity;
  const unit = (match[2] ?? '').replace('i', '').toUpperCase();
  return `${match[1]}${unit}`;
}

const unitBytes: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/**
 * The message stream's max_bytes: half of each NATS server's JetStream store. JetStream reserves
 * max_bytes on every replica's store up front and refuses a stream that does not fit ("insufficient
 * storage"); the other half is for the settings bucket and the store's own overhead.
 */
export function streamMaxBytes(ctx: BuildContext): number {
  const match = /^([0-9.]+)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(ctx.spec.nats.storageSize);
  const bytes = match ? Number(match[1]) * unitBytes[match[2] ?? '']! : 2 ** 30;
  return Math.max(2 ** 20, Math.floor(bytes / 2));
}

export function natsConfigMap(ctx: BuildContext): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMeta(ctx.cr, names.natsConfig(ctx.name), 'nats'),
    data: { 'nats.conf': natsConfig(ctx) },
  };
}

const ports = [
  { name: 'client', port: 4222 },
  { name: 'cluster', port: 6222 },
  { name: 'monitor', port: 8222 },
];

export function natsHeadlessService(ctx: BuildContext): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(ctx.cr, names.natsHeadless(ctx.name), 'nats'),
    spec: {
      clusterIP: 'None',
      // Routes must resolve before the peers are ready, or a cluster never forms.
      publishNotReadyAddresses: true,
      selector: selectorLabels(ctx.name, 'nats'),
      ports: ports.map((p) => ({ ...p, targetPort: p.name, protocol: 'TCP' })),
    },
  };
}

export function natsClientService(ctx: BuildContext): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(ctx.cr, names.nats(ctx.name), 'nats'),
    spec: {
      selector: selectorLabels(ctx.name, 'nats'),
      ports: ports.filter((p) => p.name !== 'cluster').map((p) => ({ ...p, targetPort: p.name, protocol: 'TCP' })),
    },
  };
}

export function natsStatefulSet(ctx: BuildContext): KubeObject {
  const { spec, name, cr } = ctx;
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: childMeta(cr, names.nats(name), 'nats'),
    spec: {
      replicas: spec.nats.replicas,
      serviceName: names.natsHeadless(name),
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: selectorLabels(name, 'nats') },
      template: {
        metadata: {
          labels: labels(name, 'nats'),
          annotations: { 'chorus.dev/config-hash': shortHash(natsConfig(ctx)) },
        },
        spec: {
          affinity: spreadAcrossNodes(selectorLabels(name, 'nats')),
          topologySpreadConstraints: topologySpread(selectorLabels(name, 'nats')),
          automountServiceAccountToken: false,
          securityContext: podSecurityContext(uids.nats, true),
          // Lame duck mode (30 s) must finish before the kubelet's SIGKILL.
          terminationGracePeriodSeconds: 45,
          containers: [
            {
              name: 'nats',
              image: spec.nats.image,
              args: ['--config', '/etc/nats/nats.conf'],
              env: [{ name: 'SERVER_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, ...natsServerEnv(ctx)],
              ports: ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: 'TCP' })),
              resources: resourcesFor(spec.nats.resources, 'nats'),
              livenessProbe: { httpGet: { path: '/healthz', port: 'monitor' }, periodSeconds: 10, failureThreshold: 3 },
              readinessProbe: { httpGet: { path: '/healthz?js-enabled-only=true', port: 'monitor' }, periodSeconds: 5 },
              startupProbe: { httpGet: { path: '/healthz', port: 'monitor' }, periodSeconds: 2, failureThreshold: 60 },
              securityContext: containerSecurityContext,
              volumeMounts: [
                { name: 'config', mountPath: '/etc/nats' },
                { name: 'data', mountPath: '/data' },
              ],
            },
          ],
          volumes: [{ name: 'config', configMap: { name: names.natsConfig(name) } }],
        },
      },
      volumeClaimTemplates: [dataVolumeClaim(spec.nats)],
    },
  };
}

/**
 * The passwords nats.conf refers to, from the nats-users Secret, and when clustered the route
 * URLs with the route password in them (Kubernetes expands $(ROUTE_PASSWORD) at container start,
 * so the password is in neither the ConfigMap nor the pod spec).
 */
export function natsServerEnv(ctx: BuildContext): Record<string, unknown>[] {
  const { spec, name, namespace } = ctx;
  const fromSecret = (key: string) => ({ name: key, valueFrom: { secretKeyRef: { name: names.natsUsers(name), key } } });
  const env: Record<string, unknown>[] = [...natsUsers.map((user) => fromSecret(passwordEnvOf(user))), fromSecret(routePasswordEnv)];
  if (spec.nats.replicas > 1) {
    const routes = Array.from(
      { length: spec.nats.replicas },
      (_, i) => `"nats://${routeUser}:$(${routePasswordEnv})@${names.nats(name)}-${i}.${serviceHost(names.natsHeadless(name), namespace)}:6222"`,
    );
    env.push({ name: 'ROUTE_URLS', value: `[${routes.join(', ')}]` });
  }
  return env;
}
