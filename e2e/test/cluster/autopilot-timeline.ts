/**
 * A record of what the autopilot did, as a user watching `kubectl get pods,chatcluster` would see
 * it: about once a second, the message-service pods (all, Ready, terminating) next to the
 * ChatCluster's status (queue depth, desired replicas, batch size, flush interval). A row is kept
 * only when something in it changed, so the printed table shows the scale-up and scale-down.
 */
import type { KubeCluster } from './kube-cluster.js';

export interface TimelineRow {
  /** Seconds since start(). */
  t: number;
  pods: number;
  ready: number;
  terminating: number;
  queueDepth: number | undefined;
  desiredReplicas: number | undefined;
  batchSize: number | undefined;
  flushIntervalMs: number | undefined;
}

const maxRows = 1_000;

export class AutopilotTimeline {
  readonly rows: TimelineRow[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;
  private startedAt = 0;

  constructor(
    private readonly cluster: KubeCluster,
    private readonly namespace: string,
    private readonly name: string,
  ) {}

  start(): void {
    this.startedAt = Date.now();
    this.loop = (async () => {
      while (!this.stopped) {
        const next = Date.now() + 1_000;
        await this.sample().catch(() => {}); // a failed kubectl read is a missing row, not a failure
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    // The state at stop: the loop's last sample may have read the pods before the test's own waits ended.
    await this.sample().catch(() => {});
  }

  /** The most message-service pods seen Ready at once. */
  get maxReady(): number {
    return Math.max(0, ...this.rows.map((r) => r.ready));
  }

  private async sample(): Promise<void> {
    const selector = `app.kubernetes.io/instance=${this.name},app.kubernetes.io/component=message-service`;
    const [pods, cr] = await Promise.all([
      this.cluster.kc(['-n', this.namespace, 'get', 'pods', '-l', selector, '-o', 'json']),
      this.cluster.kc(['-n', this.namespace, 'get', 'chatcluster', this.name, '-o', 'json']),
    ]);
    const items = JSON.parse(pods).items as { metadata: { deletionTimestamp?: string }; status?: { conditions?: { type: string; status: string }[] } }[];
    const status = JSON.parse(cr).status ?? {};
    const row: TimelineRow = {
      t: Math.round((Date.now() - this.startedAt) / 100) / 10,
      pods: items.length,
      ready: items.filter((p) => !p.metadata.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length,
      terminating: items.filter((p) => p.metadata.deletionTimestamp).length,
      queueDepth: status.autopilot?.queueDepth,
      desiredReplicas: status.autopilot?.desiredReplicas,
      batchSize: status.batching?.batchSize,
      flushIntervalMs: status.batching?.flushIntervalMs,
    };
    const last = this.rows.at(-1);
    const same = last && (Object.keys(row) as (keyof TimelineRow)[]).every((k) => k === 't' || row[k] === last[k]);
    if (!same && this.rows.length < maxRows) this.rows.push(row);
  }

  /** A fixed-width table, one line per change. */
  format(): string {
    const header = ['t(s)', 'pods', 'ready', 'terminating', 'queue', 'desired', 'batch', 'flush-ms'];
    const lines = this.rows.map((r) => [r.t.toFixed(1), r.pods, r.ready, r.terminating, r.queueDepth ?? '-', r.desiredReplicas ?? '-', r.batchSize ?? '-', r.flushIntervalMs ?? '-'].map(String));
    return [header, ...lines].map((cells) => cells.map((c) => c.padStart(12)).join('')).join('\n');
  }
}
