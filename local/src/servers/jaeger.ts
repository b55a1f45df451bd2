import { join } from 'node:path';
import { binaries, repoRoot } from './binaries.js';
import { freePort, startOnFreePorts } from './free-port.js';
import { httpReady, ManagedProcess } from './managed-process.js';

export interface RunningJaeger {
  /** OTLP/HTTP base URL: what OTEL_EXPORTER_OTLP_ENDPOINT names. */
  otlpUrl: string;
  /** The query API and UI (`/api/traces/<id>`, `/search`). */
  queryUrl: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** The chart's Jaeger configuration, one file for both (charts/chorus/files/jaeger.yaml). */
export const jaegerConfigPath = join(repoRoot, 'charts', 'chorus', 'files', 'jaeger.yaml');

/**
 * A real Jaeger all-in-one (in-memory storage) with every listener on 127.0.0.1: OTLP over HTTP
 * and gRPC, and the query HTTP and gRPC ports. Its traces are gone when it stops.
 */
export function startJaeger(options: { queryPort?: number; otlpPort?: number; logFile?: string; maxTraces?: number } = {}): Promise<RunningJaeger> {
  return startOnFreePorts(() => startJaegerOnce(options));
}

async function startJaegerOnce(options: { queryPort?: number; otlpPort?: number; logFile?: string; maxTraces?: number }): Promise<RunningJaeger> {
  const [queryPort, otlpPort, queryGrpcPort, otlpGrpcPort] = await Promise.all([
    options.queryPort ?? freePort(),
    options.otlpPort ?? freePort(),
    freePort(),
    freePort(),
  ]);
  const process = new ManagedProcess({
    name: 'jaeger',
    command: binaries.jaeger(),
    args: ['--config', `file:${jaegerConfigPath}`],
    env: {
      PATH: globalThis.process.env.PATH,
      JAEGER_LISTEN_HOST: '127.0.0.1',
      JAEGER_QUERY_HTTP_PORT: String(queryPort),
      JAEGER_QUERY_GRPC_PORT: String(queryGrpcPort),
      JAEGER_OTLP_HTTP_PORT: String(otlpPort),
      JAEGER_OTLP_GRPC_PORT: String(otlpGrpcPort),
      JAEGER_MAX_TRACES: String(options.maxTraces ?? 20_000),
    },
    // The query API answers once storage and the receivers are up.
    ready: httpReady(queryPort, '/api/services'),
    ...(options.logFile && { logFile: options.logFile }),
  });
  await process.start();
  return { otlpUrl: `http://127.0.0.1:${otlpPort}`, queryUrl: `http://127.0.0.1:${queryPort}`, process, stop: () => process.stop() };
}
