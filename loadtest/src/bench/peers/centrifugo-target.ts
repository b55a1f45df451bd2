import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binaries } from '@chorus/local/servers/binaries';
import { freePort } from '@chorus/local/servers/free-port';
import { httpReady, ManagedProcess } from '@chorus/local/servers/managed-process';
import { startRedis, type RunningRedis } from '@chorus/local/servers/redis';
import type { BenchTarget, TargetProcess } from '../bench-target.js';
import { centrifugoProtocol } from './centrifugo-client.js';
import { centrifugoNodeConfig } from './centrifugo-config.js';
import { Hs256Tokens } from './hs256-token.js';
import { PeerLoadRun } from './peer-load-run.js';

export const centrifugoRowLabel = '(e) Centrifugo v6, 2 nodes + Redis';

/**
 * The Centrifugo peer: a fresh redis-server and `nodes` Centrifugo nodes on it (the Redis engine:
 * PUB/SUB between nodes, history and offsets in Redis), each on its own 127.0.0.1 port. CPU counts
 * every node and redis-server.
 */
export async function startCentrifugoTarget(options: { key?: string; label?: string; nodes?: number } = {}): Promise<BenchTarget> {
  const command = binaries.centrifugo();
  const dataDir = await mkdtemp(join(tmpdir(), 'chorus-bench-centrifugo-'));
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
    const nodes: { process: ManagedProcess; port: number }[] = [];
    for (let i = 1; i <= (options.nodes ?? 2); i++) {
      const [port, internalPort] = [await freePort(), await freePort()];
      const configFile = join(dataDir, `centrifugo-${i}.json`);
      await writeFile(configFile, JSON.stringify(centrifugoNodeConfig({ port, internalPort, redisUrl: redis.url, hmacSecret: secret }), null, 2));
      const node = new ManagedProcess({
        name: `centrifugo-${i}`,
        command,
        args: ['--config', configFile],
        cwd: dataDir,
        logFile: join(dataDir, `centrifugo-${i}.log`),
        ready: httpReady(internalPort, '/health'),
      });
      stops.push(() => node.stop());
      nodes.push({ process: node, port });
    }
    await Promise.all(nodes.map((n) => n.process.start()));
    const tokens = new Hs256Tokens(secret);
    return {
      key: options.key ?? 'e',
      label: options.label ?? centrifugoRowLabel,
      gateways: nodes.map((n) => `ws://127.0.0.1:${n.port}/connection/websocket`),
      driver: (config, hooks) => new PeerLoadRun(config, centrifugoProtocol(tokens), hooks),
      processes: () => {
        const out: TargetProcess[] = [];
        if (redis.process.pid !== undefined) out.push({ name: 'redis-server', pid: redis.process.pid, kind: 'redis' });
        for (const n of nodes) if (n.process.pid !== undefined) out.push({ name: n.process.name, pid: n.process.pid, kind: 'centrifugo' });
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

/** Whether the Centrifugo binary is cached (`scripts/bootstrap.sh centrifugo`); the reason when not. */
export function centrifugoMissing(): string | undefined {
  try {
    binaries.centrifugo();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
