import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { binaries } from '@chorus/local/servers/binaries';
import { freePort } from '@chorus/local/servers/free-port';
import { httpReady, ManagedProcess } from '@chorus/local/servers/managed-process';
import type { BenchTarget } from '../bench-target.js';
import { centrifugoProtocol } from './centrifugo-client.js';
import { centrifugoNodeConfig } from './centrifugo-config.js';
import { Hs256Tokens } from './hs256-token.js';
import { startPeerCluster } from './peer-cluster.js';
import { PeerLoadRun } from './peer-load-run.js';

export const centrifugoRowLabel = '(e) Centrifugo v6, 2 nodes + Redis';

/**
 * The Centrifugo peer: a fresh redis-server and `nodes` Centrifugo nodes on it (the Redis engine:
 * PUB/SUB between nodes, history and offsets in Redis), each on its own 127.0.0.1 port. CPU counts
 * every node and redis-server.
 */
export async function startCentrifugoTarget(options: { key?: string; label?: string; nodes?: number } = {}): Promise<BenchTarget> {
  const command = binaries.centrifugo();
  const cluster = await startPeerCluster({
    name: 'centrifugo',
    kind: 'centrifugo',
    nodes: options.nodes ?? 2,
    node: async ({ index, port, redisUrl, secret, dataDir }) => {
      const internalPort = await freePort();
      const configFile = join(dataDir, `centrifugo-${index}.json`);
      await writeFile(configFile, JSON.stringify(centrifugoNodeConfig({ port, internalPort, redisUrl, hmacSecret: secret }), null, 2));
      return new ManagedProcess({
        name: `centrifugo-${index}`,
        command,
        args: ['--config', configFile],
        cwd: dataDir,
        logFile: join(dataDir, `centrifugo-${index}.log`),
        ready: httpReady(internalPort, '/health'),
      });
    },
  });
  const tokens = new Hs256Tokens(cluster.secret);
  return {
    key: options.key ?? 'e',
    label: options.label ?? centrifugoRowLabel,
    gateways: cluster.ports.map((port) => `ws://127.0.0.1:${port}/connection/websocket`),
    driver: (config, hooks) => new PeerLoadRun(config, centrifugoProtocol(tokens), hooks),
    processes: () => cluster.processes(),
    prepare: async () => {},
    finish: () => cluster.stop(),
  };
}

/** Whether the Centrifugo binary is cached (`scripts/bootstrap.sh centrifugo`); the reason when not. */
export function centrifugoMissing(): string | undefined {
  try {
    binaries.centrifugo();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
