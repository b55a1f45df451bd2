import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The service's internal port (METRICS_PORT). /healthz: the process is alive (liveness).
 * /readyz: connected and consuming (readiness), so a replica that lost NATS or MongoDB is taken
 * out of rotation instead of restarted. /metrics: Prometheus.
 */
export async function startHealthServer(options: { port: number; host: string; ready: () => boolean; alive?: () => boolean; metrics?: Registry }): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics' && options.metrics) {
      const registry = options.metrics;
      void registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
      return;
    }
    let ok: boolean;
    if (path === '/healthz') ok = options.alive?.() ?? true;
    else if (path === '/readyz') ok = options.ready();
    else {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"status":"not found"}');
      return;
    }
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ok' : 'unavailable' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
