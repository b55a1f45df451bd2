import type { KubeObject } from '../kube/kube-object.js';
import { natsUserEnv } from './nats-users-secret.js';
import { appConfigData } from './app-config.js';
import { chorusContainer, mongodbUriEnv, resourcesFor, type BuildContext } from './build-context.js';
import { otelEnv } from './gateway.js';
import { childMeta, labels, names, selectorLabels, shortHash } from './naming.js';
import { gracePeriodAbove, topologySpread } from './topology-spread.js';
import { containerSecurityContext, podSecurityContext, spreadAcrossNodes, tmpMount, tmpVolume, uids } from './pod-security.js';

/** /metrics, /healthz, /readyz; no Service routes to it from outside the namespace. */
export const messageServiceMetricsPort = 9464;

export function messageServiceDeployment(ctx: BuildContext): KubeObject {
  const { spec, name, cr } = ctx;
  const external = spec.mongodb.external?.uriSecretRef;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(cr, names.messageService(name), 'message-service', spec.version),
    spec: {
      replicas: ctx.workerReplicas,
      selector: { matchLabels: selectorLabels(name, 'message-service') },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: labels(name, 'message-service', spec.version),
          annotations: { 'chorus.dev/config-hash': shortHash({ config: appConfigData(ctx), external }) },
        },
        spec: {
          affinity: spreadAcrossNodes(selectorLabels(name, 'message-service')),
          topologySpreadConstraints: topologySpread(selectorLabels(name, 'message-service')),
          automountServiceAccountToken: false,
          securityContext: podSecurityContext(uids.chorus),
          // Above the worker's drain deadline: it finishes its batch (write, ack) and its RPCs first.
          terminationGracePeriodSeconds: gracePeriodAbove(spec.messageService.drainTimeoutSeconds),
          containers: [
            {
              ...chorusContainer(spec, 'message-service', ['node', 'message-service/dist/src/main.js']),
              ports: [{ name: 'metrics', containerPort: messageServiceMetricsPort, protocol: 'TCP' }],
              envFrom: [{ configMapRef: { name: names.config(name) } }],
              env: [
                { name: 'METRICS_PORT', value: String(messageServiceMetricsPort) },
                { name: 'METRICS_HOST', value: '0.0.0.0' },
                { name: 'DRAIN_TIMEOUT_MS', value: String(spec.messageService.drainTimeoutSeconds * 1000) },
                ...mongodbUriEnv(ctx),
                ...natsUserEnv(ctx, 'message-service'),
                ...otelEnv(ctx, 'chorus-message-service'),
              ],
              resources: resourcesFor(spec.messageService.resources, 'messageService'),
              livenessProbe: { httpGet: { path: '/healthz', port: 'metrics' }, periodSeconds: 10, failureThreshold: 3 },
              readinessProbe: { httpGet: { path: '/readyz', port: 'metrics' }, periodSeconds: 5, failureThreshold: 2 },
              startupProbe: { httpGet: { path: '/healthz', port: 'metrics' }, periodSeconds: 2, failureThreshold: 30 },
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
