import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (local/dist/src/servers -> root). */
export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** Where scripts/bootstrap.sh caches the servers it builds, keyed by version. */
export const cacheDir = process.env.CHORUS_CACHE_DIR ?? join(homedir(), '.cache', 'chorus');

function versions(): Record<string, string> {
  const text = readFileSync(join(repoRoot, 'scripts', 'versions.env'), 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => line.split('=', 2) as [string, string]),
  );
}

function cached(name: string, versionKey: string, file = name): string {
  const version = versions()[versionKey];
  const path = join(cacheDir, `${name}-${version}`, file);
  if (!existsSync(path)) {
    throw new Error(`${file} ${version} is not installed at ${path}; run scripts/bootstrap.sh (npm test and npm start do)`);
  }
  return path;
}

function onPath(name: string, candidates: string[]): string {
  for (const path of candidates) if (existsSync(path)) return path;
  throw new Error(`${name} is not installed (looked in ${candidates.join(', ')}); run scripts/bootstrap.sh`);
}

/** Absolute paths of the real server binaries the project runs. */
export const binaries = {
  natsServer: () => cached('nats-server', 'NATS_SERVER_VERSION'),
  ferretdb: () => cached('ferretdb', 'FERRETDB_VERSION'),
  /** `scripts/bootstrap.sh jaeger`: `npm start -- --tracing` and the tracing tests. */
  jaeger: () => cached('jaeger', 'JAEGER_VERSION'),
  kubeApiserver: () => cached('kube-apiserver', 'KUBERNETES_VERSION'),
  etcd: () => cached('etcd', 'ETCD_VERSION'),
  helm: () => cached('kubectl-helm', 'KUBECTL_LAYER_VERSION', 'helm'),
  kubectl: () => cached('kubectl-helm', 'KUBECTL_LAYER_VERSION', 'kubectl'),
  /** Opt-in (`scripts/bootstrap.sh centrifugo`): only the bench's peer row runs it. */
  centrifugo: () => cached('centrifugo', 'CENTRIFUGO_VERSION'),
  /** Opt-in (`scripts/bootstrap.sh nginx`): only the bench's nginx-in-front row runs it. */
  nginx: () => onPath('nginx', ['/usr/sbin/nginx']),
  redisServer: () => onPath('redis-server', ['/usr/bin/redis-server', '/usr/local/bin/redis-server']),
  chromium: () => onPath('chromium', ['/usr/bin/chromium', '/usr/bin/chromium-browser']),
};
