import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bulkSendLimits } from '@chorus/local/limit-env';
import { startPlatform } from '@chorus/local/platform';
import { startNginxFront } from '@chorus/local/servers/nginx';
import { batchingKey } from '@chorus/shared/bus/names';
import { connectNats } from '@chorus/shared/bus/nats-connection';
import { ensureSettingsBucket } from '@chorus/shared/bus/jetstream-setup';
import { defaultBatchSettings, type BatchSettings } from '@chorus/shared/batching/batch-settings';
import type { BenchTarget } from './bench-target.js';
import { platformProcessKind } from './platform-process-kind.js';

export type PlatformRow = 'a' | 'b' | 'c' | 'g' | 'h';

/** How the load tester reaches the gateways: each one's own port, or one address in front of them. */
type Front = 'ports' | 'cluster' | 'nginx';

const rows: Record<PlatformRow, { label: string; batching: BatchSettings | 'auto'; front?: Front }> = {
  a: { label: '(a) per-message (batch size 1)', batching: { batchSize: 1, flushIntervalMs: 1 } },
  b: { label: '(b) fixed batching 100 / 50 ms', batching: { batchSize: 100, flushIntervalMs: 50 } },
  c: { label: '(c) autopilot (live-tuned batching)', batching: 'auto' },
  // The load tester is given only the shared port; this process, as the cluster primary, hands
  // each connection to a gateway (during set-up, outside the measured steps).
  g: { label: '(g) as (c), one address: cluster workers', batching: 'auto', front: 'cluster' },
  // nginx proxies every frame both ways; its master and workers count as the row's CPU.
  h: { label: '(h) as (c), one address: nginx in front', batching: 'auto', front: 'nginx' },
};

/** Platform topology of every platform row: the local default of two gateways and two message services. */
export const benchTopology = { gateways: 2, messageServices: 2 };

/**
 * Rows (a)-(c) and (g): a fresh local platform per row (so no row inherits another's data or
 * backlog), differing only in batching and, for (g), in how clients reach the gateways. CPU counts every process the platform started: gateways, message
 * services, nats-server, redis-server and FerretDB.
 */
export async function startPlatformTarget(key: PlatformRow): Promise<BenchTarget> {
  const row = rows[key];
  const dataDir = await mkdtemp(join(tmpdir(), `chorus-bench-${key}-`));
  // The bench measures the pipeline's capacity, not the per-user send limits (docs/limits.md).
  const front = row.front ?? 'ports';
  const platform = await startPlatform({ dataDir, ...benchTopology, batching: row.batching, limits: bulkSendLimits, ...(front === 'cluster' && { sharedPort: 0 }) });
  const nginx =
    front === 'nginx'
      ? await startNginxFront({ dataDir: join(dataDir, 'nginx'), upstreamPorts: platform.gatewayUrls.map((url) => Number(new URL(url).port)) }).catch(async (error: unknown) => {
          await platform.stop();
          throw error;
        })
      : undefined;
  // Reads the live batching settings, so the log shows where the autopilot took them.
  const nc = await connectNats(platform.natsUrl, 'chorus bench', { firstConnectTimeoutMs: 10_000, credentials: platform.natsCredentials.operator });
  const kv = await ensureSettingsBucket(nc);
  return {
    key,
    label: row.label,
    gateways: nginx ? [nginx.url] : front === 'cluster' ? [platform.url] : platform.gatewayUrls,
    processes: () => [
      ...platform.processes().flatMap((p) => (p.pid === undefined ? [] : [{ name: p.name, pid: p.pid, kind: platformProcessKind(p.name) }])),
      ...(nginx?.pids().map((pid, i) => ({ name: `nginx-${i}`, pid, kind: 'nginx' })) ?? []),
    ],
    prepare: async () => {},
    describe: async () => {
      const entry = await kv.get(batchingKey);
      if (!entry) return `batching ${defaultBatchSettings.batchSize} / ${defaultBatchSettings.flushIntervalMs} ms (default: nothing in KV yet)`;
      const value = entry.json<{ batchSize: number; flushIntervalMs: number; source?: string }>();
      return `batching ${value.batchSize} / ${value.flushIntervalMs} ms${value.source ? ` (${value.source})` : ''}`;
    },
    finish: async () => {
      await nc.close().catch(() => {});
      await nginx?.stop();
      await platform.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
