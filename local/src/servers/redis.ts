import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { binaries } from './binaries.js';
import { freePort, startOnFreePorts } from './free-port.js';
import { ManagedProcess, tcpReady } from './managed-process.js';

export interface RunningRedis {
  /** redis://127.0.0.1:<port>, without credentials (pass `password` to the client). */
  url: string;
  /** The same with the password in it, for clients that only take a URL. */
  authUrl: string;
  port: number;
  /** Its `requirepass`, new on every start: no client gets in without it, as in a ChatCluster. */
  password: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * A real redis-server on 127.0.0.1 that requires a password (generated, written to a 0600
 * config file so it is in no command line). With `persist`, an append-only file in dataDir keeps
 * its data (membership caches, presence, revocations) across restarts of `npm start`; tests run without it.
 */
export function startRedis(options: { dataDir: string; port?: number; persist?: boolean; logFile?: string }): Promise<RunningRedis> {
  return startOnFreePorts(() => startRedisOnce(options));
}

async function startRedisOnce(options: { dataDir: string; port?: number; persist?: boolean; logFile?: string }): Promise<RunningRedis> {
  const port = options.port ?? (await freePort());
  mkdirSync(options.dataDir, { recursive: true });
  const password = randomBytes(24).toString('base64url');
  const configFile = join(options.dataDir, 'redis-auth.conf');
  writeFileSync(configFile, `requirepass ${password}\n`, { mode: 0o600 });
  const persistence = options.persist ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no'];
  const process = new ManagedProcess({
    name: 'redis-server',
    command: binaries.redisServer(),
    args: [configFile, '--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', options.dataDir, '--daemonize', 'no', '--protected-mode', 'yes'],
    ready: tcpReady(port),
    ...(options.logFile && { logFile: options.logFile }),
  });
  await process.start();
  return {
    url: `redis://127.0.0.1:${port}`,
    authUrl: `redis://:${password}@127.0.0.1:${port}`,
    port,
    password,
    process,
    stop: () => process.stop(),
  };
}
