import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManagedProcess, tcpReady } from '@chorus/local/servers/managed-process';
import type { BenchTarget } from '../bench-target.js';
import { Hs256Tokens } from './hs256-token.js';
import { startPeerCluster } from './peer-cluster.js';
import { PeerLoadRun } from './peer-load-run.js';
import { socketIoProtocol } from './socketio-client.js';

export const socketIoRowLabel = '(f) Socket.IO 4, 2 processes + Redis adapter';

const main = fileURLToPath(new URL('./socketio-chat-main.js', import.meta.url));

/**
 * The Socket.IO peer: a fresh redis-server and `processes` chat server processes sharing it
 * through the Redis adapter. CPU counts every chat server process and redis-server.
 */
export async function startSocketIoTarget(options: { key?: string; label?: string; processes?: number } = {}): Promise<BenchTarget> {
  const cluster = await startPeerCluster({
    name: 'socketio',
    kind: 'socket.io server',
    nodes: options.processes ?? 2,
    node: async ({ index, port, redisUrl, secret, dataDir }) =>
      new ManagedProcess({
        name: `socketio-${index}`,
        command: process.execPath,
        args: [main],
        env: { ...process.env, PORT: String(port), REDIS_URL: redisUrl, TOKEN_SECRET: secret, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
        logFile: join(dataDir, `socketio-${index}.log`),
        ready: tcpReady(port),
      }),
  });
  const tokens = new Hs256Tokens(cluster.secret);
  return {
    key: options.key ?? 'f',
    label: options.label ?? socketIoRowLabel,
    gateways: cluster.ports.map((port) => `http://127.0.0.1:${port}`),
    driver: (config, hooks) => new PeerLoadRun(config, socketIoProtocol(tokens), hooks),
    processes: () => cluster.processes(),
    prepare: async () => {},
    finish: () => cluster.stop(),
  };
}
