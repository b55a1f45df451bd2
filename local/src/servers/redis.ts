import { mkdirSync } from 'node:fs';
import { binaries } from './binaries.js';
import { freePort, startOnFreePorts } from './free-port.js';
import { ManagedProcess, tcpReady } from './managed-process.js';

export interface RunningRedis {
  url: string;
  port: number;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * A real redis-server on 127.0.0.1. With `persist`, an append-only file in dataDir keeps its data
 * (membership caches, presence) across restarts of `npm start`; tests run without it.
 */
export function startRedis(options: { dataDir: string; port?: number; persist?: boolean; logFile?: string }): Promise<RunningRedis> {
  return startOnFreePorts(() => startRedisOnce(options));
}

async function startRedisOnce(options: { dataDir: string; port?: number; persist?: boolean; logFile?: string }): Promise<RunningRedis> {
  const port = options.port ?? (await freePort());
  mkdirSync(options.dataDir, { recursive: true });
  const persistence = options.persist ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no'];
  const process = new ManagedProcess({
    name: 'redis-server',
    command: binaries.redisServer(),
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', options.dataDir, '--daemonize', 'no', '--protected-mode', 'yes'],
    ready: tcpReady(port),
    ...(options.logFile && { logFile: options.logFile }),
  });
  await process.start();
  return { url: `redis://127.0.0.1:${port}`, port, process, stop: () => process.stop() };
}
