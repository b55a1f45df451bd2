import type { KubeObject } from '../kube/kube-object.js';
import { natsUserEnv } from './nats-users-secret.js';
import { appConfigData } from './app-config.js';
import { redisPasswordEnv } from './redis-secret.js';
import { chorusContainer, resourcesFor, type BuildContext } from './build-context.js';
import { childMeta, labels, names, selectorLabels, shortHash } from './naming.js';
import { gracePeriodAbove, topologySpread } from './topology-spread.js';
import { containerSecurityContext, podSecurityContext, spreadAcrossNodes, tmpMount, tmpVolume, uids } from './pod-security.js';

export const gatewayPort = 8080;
/** /metrics, health and POST /admin/revoke: only the metrics Service reaches it, never the public Service or Ingress. */
export const gatewayMetricsPort = 9464;

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
          affinity: spreadAcrossNodes(selector),
          topologySpreadConstraints: topologySpread(selector),
          automountServiceAccountToken: false,
          securityContext: podSecurityContext(uids.chorus),
          // Above the drain (clients moved over the window, sends answered) plus the close after it.
          terminationGracePeriodSeconds: gracePeriodAbove(spec.gateway.drain.timeoutSeconds),
          containers: [
            {
              ...chorusContainer(spec, 'gateway', ['node', 'gateway/dist/src/main.js']),
              ports: [
                { name: 'http', containerPort: gatewayPort, protocol: 'TCP' },
                { name: 'metrics', containerPort: gatewayMetricsPort, protocol: 'TCP' },
              ],
              envFrom: [{ configMapRef: { name: names.config(name) } }],
              env: [
                { name: 'PORT', value: String(gatewayPort) },
                // The services bind 127.0.0.1 unless told otherwise; in a pod they serve the Service and probes.
                { name: 'HOST', value: '0.0.0.0' },
                { name: 'METRICS_PORT', value: String(gatewayMetricsPort) },
                { name: 'METRICS_HOST', value: '0.0.0.0' },
                ...gatewayAuthEnv(ctx),
                ...natsUserEnv(ctx, 'gateway'),
                ...redisPasswordEnv(ctx),
                { name: 'ADMIN_TOKEN', valueFrom: { secretKeyRef: { name: names.adminSecret(name), key: 'ADMIN_TOKEN' } } },
                { name: 'GATEWAY_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'DRAIN_WINDOW_MS', value: String(spec.gateway.drain.windowSeconds * 1000) },
                { name: 'DRAIN_TIMEOUT_MS', value: String(spec.gateway.drain.timeoutSeconds * 1000) },
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

/**
 * Identity settings (gateway/src/main.ts). devLogin: dev mode, signing with the generated token
 * Secret. Otherwise jwt mode: HS256 with hs256SecretRef, or with the generated Secret when
 * neither hs256SecretRef nor jwksUrl is set (the backend reads it to sign), and/or a JWKS URL.
 */
export function gatewayAuthEnv(ctx: BuildContext): Record<string, unknown>[] {
  const { auth } = ctx.spec.gateway;
  const generated = { name: names.tokenSecret(ctx.name), key: 'CHORUS_TOKEN_SECRET' };
  const hs256 = auth.devLogin ? generated : (auth.hs256SecretRef ?? (auth.jwksUrl ? undefined : generated));
  return [
    { name: 'AUTH_MODE', value: auth.devLogin ? 'dev' : 'jwt' },
    ...(hs256 ? [{ name: 'AUTH_HS256_SECRET', valueFrom: { secretKeyRef: hs256 } }] : []),
    ...(auth.jwksUrl ? [{ name: 'AUTH_JWKS_URL', value: auth.jwksUrl }] : []),
    { name: 'AUTH_ISSUER', value: auth.issuer },
    { name: 'AUTH_AUDIENCE', value: auth.audience },
    { name: 'AUTH_USER_CLAIM', value: auth.userClaim },
    { name: 'AUTH_MAX_TOKEN_LIFETIME_SECONDS', value: String(auth.maxTokenLifetimeSeconds) },
    ...(auth.allowedOrigins.length > 0 ? [{ name: 'ALLOWED_ORIGINS', value: auth.allowedOrigins.join(',') }] : []),
  ];
}

/** For Prometheus inside the cluster; the public gateway Service and Ingress carry only the http port. */
export function gatewayMetricsService(ctx: BuildContext): KubeObject {
  const { name, cr } = ctx;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(cr, names.gatewayMetrics(name), 'gateway'),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(name, 'gateway'),
      ports: [{ name: 'metrics', port: gatewayMetricsPort, targetPort: 'metrics', protocol: 'TCP' }],
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
