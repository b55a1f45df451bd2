import {
  trace,
  ROOT_CONTEXT,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';

export interface Telemetry {
  /** Flushes and stops exporting; call on shutdown. */
  shutdown(): Promise<void>;
  /** True when spans are recorded (an exporter or a test processor is configured). */
  readonly enabled: boolean;
}

/**
 * Starts OpenTelemetry for one service. Exporting is configured only by the standard OTEL_* env
 * (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_EXPORTER, ...); with none set, nothing is started and
 * nothing leaves the process. Tests pass their own span processor (an in-memory exporter).
 */
export function startTelemetry(serviceName: string, options: { spanProcessors?: SpanProcessor[] } = {}): Telemetry {
  const env = process.env;
  const configured = Boolean(
    env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_TRACES_EXPORTER,
  );
  if (!configured && !options.spanProcessors) return { enabled: false, shutdown: async () => {} };
  // Only traces are part of the design; metrics and logs stay off unless asked for explicitly.
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? serviceName,
    instrumentations: [],
    autoDetectResources: false,
    ...(options.spanProcessors && { spanProcessors: options.spanProcessors }),
  });
  sdk.start();
  return { enabled: true, shutdown: () => sdk.shutdown() };
}

export const tracer = () => trace.getTracer('chorus');

// Our own propagator instance, so NATS headers carry W3C traceparent whatever the global one is.
const w3c = new W3CTraceContextPropagator();

/** Anything with get/set of string headers: NATS MsgHdrs, a plain record via adapters below. */
export interface HeaderCarrier {
  get(key: string): string;
  set(key: string, value: string): void;
}
const headerSetter: TextMapSetter<HeaderCarrier> = { set: (carrier, key, value) => carrier.set(key, value) };
const headerGetter: TextMapGetter<HeaderCarrier> = {
  get: (carrier, key) => carrier.get(key) || undefined,
  keys: () => ['traceparent', 'tracestate'],
};

export function injectTrace(ctx: Context, headers: HeaderCarrier): void {
  w3c.inject(ctx, headers, headerSetter);
}
export function extractTrace(headers: HeaderCarrier | undefined): Context {
  return headers ? w3c.extract(ROOT_CONTEXT, headers, headerGetter) : ROOT_CONTEXT;
}

/** The W3C traceparent of a span, or undefined when the span is not recording (tracing off). */
export function traceparentOf(span: Span): string | undefined {
  const carrier: Record<string, string> = {};
  w3c.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, { set: (c, k, v) => (c[k] = v) });
  return carrier.traceparent;
}
export function contextFromTraceparent(traceparent: string | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return w3c.extract(ROOT_CONTEXT, { traceparent }, { get: (c, k) => c[k as 'traceparent'], keys: () => ['traceparent'] });
}
