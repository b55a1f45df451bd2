import type { KubeObject } from '../kube/kube-object.js';
import { resourcesFor, type BuildContext } from './build-context.js';
import { childMeta, labels, names, selectorLabels } from './naming.js';
import { containerSecurityContext, podSecurityContext, tmpMount, tmpVolume, uids } from './pod-security.js';

/** Redis holds presence only (ephemeral by design), so no persistence and no PVC. */
export function redisStatefulSet(ctx: BuildContext): KubeObject {
  const { spec, name, cr } = ctx;
  const ping = { exec: { command: ['redis-cli', 'ping'] } };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: childMeta(cr, names.redis(name), 'redis'),
    spec: {
      replicas: 1,
      serviceName: names.redisHeadless(name),
      selector: { matchLabels: selectorLabels(name, 'redis') },
      template: {
        metadata: { labels: labels(name, 'redis') },
        spec: {
          automountServiceAccountToken: false,
          securityContext: podSecurityContext(uids.redis, true),
          containers: [
            {
              name: 'redis',
              image: spec.redis.image,
              args: ['redis-server', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
              ports: [{ name: 'redis', containerPort: 6379, protocol: 'TCP' }],
              resources: resourcesFor(spec.redis.resources, 'redis'),
              livenessProbe: { ...ping, periodSeconds: 10, failureThreshold: 3 },
              readinessProbe: { ...ping, periodSeconds: 5 },
              securityContext: containerSecurityContext,
              volumeMounts: [{ name: 'data', mountPath: '/data' }, tmpMount],
            },
          ],
          volumes: [{ name: 'data', emptyDir: {} }, tmpVolume],
        },
      },
    },
  };
}

export function redisServices(ctx: BuildContext): KubeObject[] {
  const { name, cr } = ctx;
  const port = [{ name: 'redis', port: 6379, targetPort: 'redis', protocol: 'TCP' }];
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: childMeta(cr, names.redisHeadless(name), 'redis'),
      spec: { clusterIP: 'None', selector: selectorLabels(name, 'redis'), ports: port },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: childMeta(cr, names.redis(name), 'redis'),
      spec: { selector: selectorLabels(name, 'redis'), ports: port },
    },
  ];
}
