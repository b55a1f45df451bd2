import type { KubeObject } from '../kube/kube-object.js';
import { appConfigData } from './app-config.js';
import { chorusContainer, resourcesFor, type BuildContext } from './build-context.js';
import { childMeta, labels, names, selectorLabels, shortHash } from './naming.js';
import { containerSecurityContext, podSecurityContext, spreadAcrossNodes, tmpMount, tmpVolume, uids } from './pod-security.js';

export const gatewayPort = 8080;

/** Env every Chorus app container gets besides the shared ConfigMap. */
export function otelEnv(ctx: BuildContext, service: string): Record<string, unknown>[] {
  return ctx.spec.tracing?.otlpEndpoint ? [{ name: 'OTEL_SERVICE_NAME', value: service }] : [];
}

export function gatewayDeployment(ctx: BuildContext): KubeObject {
  const { spec, name, cr } = ctx;
  const selector = selectorLabels(name, 'gateway');
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(cr, names.gateway(name), 'gateway', spec.version),
    spec: {
      replicas: spec.gateway.replicas,
      selector: { matchLabels: selector },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: labels(name, 'gateway', spec.version),
          // A config change must roll the pods: env from a ConfigMap is read only at start.
          annotations: { 'chorus.dev/config-hash': shortHash(appConfigData(ctx)) },
        },
        spec: {
          affinity: spreadAcrossNodes(selectorLabels(name, 'gateway')),
          automountServiceAccountToken: false,
          securityContext: podSecurityContext(uids.chorus),
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              ...chorusContainer(spec, 'gateway', ['node', 'gateway/dist/src/main.js']),
              ports: [{ name: 'http', containerPort: gatewayPort, protocol: 'TCP' }],
              envFrom: [{ configMapRef: { name: names.config(name) } }],
              env: [
                { name: 'PORT', value: String(gatewayPort) },
                // The services bind 127.0.0.1 unless told otherwise; in a pod they serve the Service and probes.
                { name: 'HOST', value: '0.0.0.0' },
                { name: 'CHORUS_TOKEN_SECRET', valueFrom: { secretKeyRef: { name: names.tokenSecret(name), key: 'CHORUS_TOKEN_SECRET' } } },
                { name: 'GATEWAY_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                ...otelEnv(ctx, 'chorus-gateway'),
              ],
              resources: resourcesFor(spec.gateway.resources, 'gateway'),
              livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, failureThreshold: 3 },
              readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5, failureThreshold: 2 },
              startupProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 2, failureThreshold: 30 },
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

export function gatewayService(ctx: BuildContext): KubeObject {
  const { spec, name, cr } = ctx;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(cr, names.gateway(name), 'gateway'),
    spec: {
      type: spec.gateway.service.type,
      selector: selectorLabels(name, 'gateway'),
      ports: [{ name: 'http', port: spec.gateway.service.port, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

export function gatewayIngress(ctx: BuildContext): KubeObject | undefined {
  const { spec, name, cr } = ctx;
  const ingress = spec.gateway.ingress;
  if (!ingress) return undefined;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      ...childMeta(cr, names.gateway(name), 'gateway'),
      // WebSockets are long-lived: raise the usual 60 s proxy timeouts (ingress-nginx).
      annotations: { 'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600', 'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600' },
    },
    spec: {
      ...(ingress.className && { ingressClassName: ingress.className }),
      ...(ingress.tlsSecretName && { tls: [{ hosts: [ingress.host], secretName: ingress.tlsSecretName }] }),
      rules: [
        {
          host: ingress.host,
          http: {
            paths: [
              { path: '/', pathType: 'Prefix', backend: { service: { name: names.gateway(name), port: { name: 'http' } } } },
            ],
          },
        },
      ],
    },
  };
}
