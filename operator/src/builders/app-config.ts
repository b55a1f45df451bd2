import type { KubeObject } from '../kube/kube-object.js';
import { serviceHost, type BuildContext } from './build-context.js';
import { streamMaxBytes } from './nats.js';
import { childMeta, names } from './naming.js';
import { limitsEnv } from './limits-env.js';

/** Settings shared by gateways and message-services (env through envFrom); no credentials (those come by secretKeyRef). */
export function appConfigData(ctx: BuildContext): Record<string, string> {
  const { spec, name, namespace } = ctx;
  return {
    NATS_URL: `nats://${serviceHost(names.nats(name), namespace)}:4222`,
    REDIS_URL: `redis://${serviceHost(names.redis(name), namespace)}:6379`,
    MONGODB_DB: 'chorus',
    // The stream as the NATS cluster can hold it: replicated like NATS, and within its store.
    // Whichever of gateway and message-service starts first creates it.
    JETSTREAM_REPLICAS: String(spec.nats.replicas),
    STREAM_MAX_BYTES: String(streamMaxBytes(ctx)),
    LOG_LEVEL: spec.logLevel,
    ...(spec.tracing?.otlpEndpoint && { OTEL_EXPORTER_OTLP_ENDPOINT: spec.tracing.otlpEndpoint }),
    ...limitsEnv(spec.limits),
  };
}

export function appConfigMap(ctx: BuildContext): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMeta(ctx.cr, names.config(ctx.name), 'config'),
    data: appConfigData(ctx),
  };
}
