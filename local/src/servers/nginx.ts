import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { binaries } from './binaries.js';
import { freePort, startOnFreePorts } from './free-port.js';
import { ManagedProcess, tcpReady } from './managed-process.js';

export interface NginxFrontOptions {
  dataDir: string;
  /** The gateways' own ports, balanced round-robin. */
  upstreamPorts: number[];
  port?: number;
  /** nginx worker processes (default 2). */
  workers?: number;
  logFile?: string;
}

export interface RunningNginx {
  url: string;
  port: number;
  process: ManagedProcess;
  /** The master and its workers (the workers do the proxying). */
  pids(): number[];
  stop(): Promise<void>;
}

/**
 * A real nginx on 127.0.0.1 proxying HTTP and WebSocket to the gateways: the original design's
 * load balancer, run by the bench to compare with the cluster module's shared port.
 */
export function startNginxFront(options: NginxFrontOptions): Promise<RunningNginx> {
  return startOnFreePorts(() => startNginxFrontOnce(options));
}

async function startNginxFrontOnce(options: NginxFrontOptions): Promise<RunningNginx> {
  const port = options.port ?? (await freePort());
  mkdirSync(options.dataDir, { recursive: true });
  const dir = options.dataDir;
  const upstreams = options.upstreamPorts.map((p) => `    server 127.0.0.1:${p};`).join('\n');
  const config = `daemon off;
worker_processes ${options.workers ?? 2};
pid ${join(dir, 'nginx.pid')};
error_log stderr warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream gateways {
${upstreams}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://gateways;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_buffering off;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
    }
  }
}
`;
  const configFile = join(dir, 'nginx.conf');
  writeFileSync(configFile, config);
  const process = new ManagedProcess({
    name: 'nginx',
    command: binaries.nginx(),
    args: ['-p', dir, '-c', configFile, '-e', 'stderr'],
    ready: tcpReady(port),
    ...(options.logFile && { logFile: options.logFile }),
  });
  await process.start();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    process,
    pids: () => {
      const master = process.pid;
      if (master === undefined) return [];
      const children = readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      return [master, ...children];
    },
    stop: () => process.stop(),
  };
}
