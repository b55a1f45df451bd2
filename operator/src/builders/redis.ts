import type { KubeObject } from '../kube/kube-object.js';
import { resourcesFor, type BuildContext } from './build-context.js';
import { childMeta, labels, names, selectorLabels } from './naming.js';
import { dataVolumeClaim } from './data-volume-claim.js';
import { redisConfKey, redisPasswordKey } from './redis-secret.js';
import { containerSecurityContext, podSecurityContext, tmpMount, tmpVolume, uids } from './pod-security.js';

/**
 * Redis holds presence, socket quotas, membership caches and the token revocation list. The
 * revocations must survive a restart (a restarted Redis would otherwise accept revoked tokens
 * again), so Redis writes an append-only file (fsync every second) on a PersistentVolume; the
 * rest expires by TTL or is rebuilt. A password is required (`requirepass` from the mounted
 * Secret file); the probes authenticate through REDISCLI_AUTH and fail on an error reply (-e).
 */
export function redisStatefulSet(ctx: BuildContext): KubeObject {
  const { spec, name, cr } = ctx;
  const ping = { exec: { command: ['redis-cli', '-e', 'ping'] } };
  const password = { secretKeyRef: { name: names.redisSecret(name), key: redisPasswordKey } };
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
              args: ['redis-server', `${redisConfDir}/${redisConfKey}`, '--dir', '/data', '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''],
              env: [{ name: 'REDISCLI_AUTH', valueFrom: password }],
              ports: [{ name: 'redis', containerPort: 6379, protocol: 'TCP' }],
              resources: resourcesFor(spec.redis.resources, 'redis'),
              livenessProbe: { ...ping, periodSeconds: 10, failureThreshold: 3 },
              readinessProbe: { ...ping, periodSeconds: 5 },
              securityContext: containerSecurityContext,
              volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'config', mountPath: redisConfDir, readOnly: true }, tmpMount],
            },
          ],
          volumes: [
            { name: 'config', secret: { secretName: names.redisSecret(name), items: [{ key: redisConfKey, path: redisConfKey }], defaultMode: 0o440 } },
            tmpVolume,
          ],
        },
      },
      volumeClaimTemplates: [dataVolumeClaim(spec.redis)],
    },
  };
}

const redisConfDir = '/etc/redis';

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
