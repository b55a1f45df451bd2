import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@chorus/local/servers/free-port';
import { ManagedProcess, tcpReady } from '@chorus/local/servers/managed-process';
import { startRedis, type RunningRedis } from '@chorus/local/servers/redis';
import type { BenchTarget, TargetProcess } from '../bench-target.js';
import { Hs256Tokens } from './hs256-token.js';
import { PeerLoadRun } from './peer-load-run.js';
import { socketIoProtocol } from './socketio-client.js';

export const socketIoRowLabel = '(f) Socket.IO 4, 2 processes + Redis adapter';

const main = fileURLToPath(new URL('./socketio-chat-main.js', import.meta.url));

/**
 * The Socket.IO peer: a fresh redis-server and `processes` chat server processes sharing it
 * through the Redis adapter. CPU counts every chat server process and redis-server.
 */
export async function startSocketIoTarget(options: { key?: string; label?: string; processes?: number } = {}): Promise<BenchTarget> {
  const dataDir = await mkdtemp(join(tmpdir(), 'chorus-bench-socketio-'));
  const secret = randomBytes(32).toString('hex');
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const fn of stops.reverse()) await fn().catch(() => {});
    stops.length = 0;
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const redis: RunningRedis = await startRedis({ dataDir: join(dataDir, 'redis'), logFile: join(dataDir, 'redis.log') });
    stops.push(() => redis.stop());
    const servers: { process: ManagedProcess; port: number }[] = [];
    for (let i = 1; i <= (options.processes ?? 2); i++) {
      const port = await freePort();
      const server = new ManagedProcess({
        name: `socketio-${i}`,
        command: process.execPath,
        args: [main],
        env: { ...process.env, PORT: String(port), REDIS_URL: redis.url, TOKEN_SECRET: secret, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
        logFile: join(dataDir, `socketio-${i}.log`),
        ready: tcpReady(port),
      });
      stops.push(() => server.stop());
      servers.push({ process: server, port });
    }
    await Promise.all(servers.map((s) => s.process.start()));
    const tokens = new Hs256Tokens(secret);
    return {
      key: options.key ?? 'f',
      label: options.label ?? socketIoRowLabel,
      gateways: servers.map((s) => `http://127.0.0.1:${s.port}`),
      driver: (config, hooks) => new PeerLoadRun(config, socketIoProtocol(tokens), hooks),
      processes: () => {
        const out: TargetProcess[] = [];
        if (redis.process.pid !== undefined) out.push({ name: 'redis-server', pid: redis.process.pid, kind: 'redis' });
        for (const s of servers) if (s.process.pid !== undefined) out.push({ name: s.process.name, pid: s.process.pid, kind: 'socket.io server' });
        return out;
      },
      prepare: async () => {},
      finish: stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
