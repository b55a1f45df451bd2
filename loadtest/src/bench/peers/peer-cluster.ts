import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@chorus/local/servers/free-port';
import type { ManagedProcess } from '@chorus/local/servers/managed-process';
import { startRedis } from '@chorus/local/servers/redis';
import type { TargetProcess } from '../bench-target.js';

/** What a peer's server process needs to start: its number, port, the shared redis and secret. */
export interface PeerNodeSpec {
  index: number;
  port: number;
  redisUrl: string;
  secret: string;
  dataDir: string;
}

export interface PeerCluster {
  ports: number[];
  secret: string;
  /** redis-server and every node, for CPU accounting. */
  processes(): TargetProcess[];
  stop(): Promise<void>;
}

/**
 * A peer system as the bench runs it: a fresh redis-server and `nodes` server processes sharing
 * it, each on its own 127.0.0.1 port, in a temporary folder removed on stop. Everything started
 * is stopped again when start-up fails half-way.
 */
export async function startPeerCluster(options: { name: string; kind: string; nodes: number; node: (spec: PeerNodeSpec) => Promise<ManagedProcess> }): Promise<PeerCluster> {
  const dataDir = await mkdtemp(join(tmpdir(), `chorus-bench-${options.name}-`));
  const secret = randomBytes(32).toString('hex');
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const fn of stops.reverse()) await fn().catch(() => {});
    stops.length = 0;
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const redis = await startRedis({ dataDir: join(dataDir, 'redis'), logFile: join(dataDir, 'redis.log') });
    stops.push(() => redis.stop());
    const nodes: { process: ManagedProcess; port: number }[] = [];
    for (let index = 1; index <= options.nodes; index++) {
      const port = await freePort();
      const node = await options.node({ index, port, redisUrl: redis.authUrl, secret, dataDir });
      stops.push(() => node.stop());
      nodes.push({ process: node, port });
    }
    await Promise.all(nodes.map((n) => n.process.start()));
    return {
      ports: nodes.map((n) => n.port),
      secret,
      processes: () => {
        const out: TargetProcess[] = [];
        if (redis.process.pid !== undefined) out.push({ name: 'redis-server', pid: redis.process.pid, kind: 'redis' });
        for (const n of nodes) if (n.process.pid !== undefined) out.push({ name: n.process.name, pid: n.process.pid, kind: options.kind });
        return out;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
