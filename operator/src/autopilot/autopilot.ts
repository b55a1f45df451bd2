import type { Logger } from '@chorus/shared/logging/logger';
import { BatchTuner, type BatchBounds } from '@chorus/shared/batching/batch-tuner';
import { ReplicaScaler, type ScalerConfig } from '@chorus/shared/autopilot/replica-scaler';
import type { BatchSettings } from '@chorus/shared/batching/batch-settings';
import type { ChatCluster, ChatClusterStatus } from '../api/chatcluster.js';
import { parseSpec, type ChatClusterSpec } from '../api/chatcluster-spec.js';
import type { KubeClient } from '../kube/kube-client.js';
import { objectKey } from '../kube/kube-object.js';
import { kinds } from '../kube/resource-kinds.js';
import type { Manager } from '../manager.js';
import type { OperatorMetrics } from '../server/operator-metrics.js';
import { passwordEnvOf } from '@chorus/shared/bus/nats-permissions';
import type { NatsCredentials } from '@chorus/shared/bus/nats-connection';
import { names } from '../builders/naming.js';
import { NatsTelemetry } from './nats-telemetry.js';

export interface AutopilotOptions {
  client: KubeClient;
  manager: Manager;
  logger: Logger;
  metrics: OperatorMetrics;
  /** NATS URL per cluster; {name} and {namespace} are substituted. */
  natsUrlTemplate: string;
  intervalMs: number;
  /** Write queueDepth to status at most this often when nothing else changed. */
  statusEveryMs?: number;
}

interface ClusterState {
  telemetry: NatsTelemetry;
  tuner?: BatchTuner;
  boundsKey?: string;
  scaler?: ReplicaScaler;
  scalerKey?: string;
  lastSample?: { arrivedSeq: number; timeMs: number };
  written?: BatchSettings;
  lastStatusAt: number;
  lastStatus?: string;
  failures: number;
  nextTryAt: number;
}

export function natsUrlFor(template: string, cr: ChatCluster): string {
  return template.replaceAll('{name}', cr.metadata.name!).replaceAll('{namespace}', cr.metadata.namespace!);
}

function boundsOf(spec: ChatClusterSpec): BatchBounds {
  const { bounds, targetLatencyMs } = spec.batching;
  return { ...bounds, targetLatencyMs };
}

function scalerConfigOf(spec: ChatClusterSpec): ScalerConfig {
  const m = spec.messageService;
  return {
    minReplicas: m.minReplicas,
    maxReplicas: m.maxReplicas,
    backlogPerReplica: m.backlogPerReplica,
    scaleUpStabilizationMs: m.scaleUpStabilizationSeconds * 1000,
    scaleDownStabilizationMs: m.scaleDownStabilizationSeconds * 1000,
  };
}

/**
 * The autopilot: once per interval, for every ChatCluster, read the message-service consumer's
 * backlog from the cluster's JetStream, let the shared ReplicaScaler pick message-service
 * replicas (written to status.autopilot.desiredReplicas; the reconciler renders it into the
 * Deployment) and the shared BatchTuner pick batch size and flush interval in `auto` mode (or
 * take the spec's in `fixed` mode), write those to the NATS KV bucket the message-services watch,
 * mirror them in status, and record an Event when they change.
 */
export class Autopilot {
  private readonly clusters = new Map<string, ClusterState>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: AutopilotOptions) {}

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      this.running = this.tick().catch((error) => this.options.logger.warn({ err: String(error) }, 'autopilot tick failed'));
      await this.running;
      if (!this.stopped) {
        this.timer = setTimeout(() => void loop(), this.options.intervalMs);
        this.timer.unref();
      }
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await Promise.all([...this.clusters.values()].map((s) => s.telemetry.close()));
    this.clusters.clear();
  }

  private async tick(): Promise<void> {
    const seen = new Set<string>();
    for (const cr of this.options.manager.chatClusters.list()) {
      if (cr.metadata.deletionTimestamp) continue;
      const key = objectKey(cr);
      seen.add(key);
      const parsed = parseSpec(cr.spec);
      if (!parsed.ok) continue; // the reconciler reports it
      await this.tickCluster(key, cr, parsed.spec);
    }
    for (const [key, state] of this.clusters) {
      if (!seen.has(key)) {
        await state.telemetry.close();
        this.clusters.delete(key);
        const [namespace, cluster] = key.split('/') as [string, string];
        const { backlog, desiredReplicas, batchSize, flushInterval } = this.options.metrics;
        for (const gauge of [backlog, desiredReplicas, batchSize, flushInterval]) gauge.remove({ namespace, cluster });
      }
    }
  }

  /**
   * The operator user of the cluster's NATS, from its nats-users Secret (in the informer's cache);
   * undefined until the reconciler has created it.
   */
  private credentialsOf(cr: ChatCluster): NatsCredentials | undefined {
    const secret = this.options.manager.get(kinds.Secret, cr.metadata.namespace!, names.natsUsers(cr.metadata.name!));
    const encoded = secret?.data?.[passwordEnvOf('operator')];
    return encoded ? { user: 'operator', password: Buffer.from(encoded, 'base64').toString('utf8') } : undefined;
  }

  private state(key: string, cr: ChatCluster): ClusterState {
    const url = natsUrlFor(this.options.natsUrlTemplate, cr);
    const credentials = this.credentialsOf(cr);
    let state = this.clusters.get(key);
    if (state && (state.telemetry.url !== url || state.telemetry.credentials?.password !== credentials?.password)) {
      void state.telemetry.close();
      state = undefined;
    }
    if (!state) {
      state = { telemetry: new NatsTelemetry(url, credentials, this.options.logger.child({ cluster: key })), lastStatusAt: 0, failures: 0, nextTryAt: 0 };
      this.clusters.set(key, state);
    }
    return state;
  }

  private async tickCluster(key: string, cr: ChatCluster, spec: ChatClusterSpec): Promise<void> {
    const { namespace, name } = { namespace: cr.metadata.namespace!, name: cr.metadata.name! };
    const state = this.state(key, cr);
    const now = Date.now();
    if (now < state.nextTryAt) return;

    // Follow spec changes without losing the smoothing state when nothing relevant changed.
    const bounds = boundsOf(spec);
    const boundsKey = JSON.stringify(bounds);
    if (!state.tuner) state.tuner = new BatchTuner(bounds);
    else if (state.boundsKey !== boundsKey) state.tuner.setBounds(bounds);
    state.boundsKey = boundsKey;
    const scalerConfig = scalerConfigOf(spec);
    const scalerKey = JSON.stringify(scalerConfig);
    if (!state.scaler) state.scaler = new ReplicaScaler(scalerConfig, cr.status?.autopilot?.desiredReplicas ?? scalerConfig.minReplicas);
    else if (state.scalerKey !== scalerKey) state.scaler.setConfig(scalerConfig);
    state.scalerKey = scalerKey;

    let sample;
    try {
      sample = await state.telemetry.sample();
      if (state.written === undefined) state.written = await state.telemetry.readSettings();
      state.failures = 0;
    } catch (error) {
      state.failures++;
      // Unreachable NATS (not deployed yet, DNS, no stream): back off up to 15 s, say so in status.
      state.nextTryAt = now + Math.min(15_000, this.options.intervalMs * 2 ** Math.min(state.failures, 5));
      const message = `cannot read queue depth from ${state.telemetry.url}: ${error instanceof Error ? error.message : String(error)}`;
      if (state.failures === 1 || state.failures % 10 === 0) this.options.logger.info({ cluster: key, err: message }, 'autopilot waiting for NATS');
      if (cr.status?.autopilot?.error !== message) await this.patchStatus(cr, { autopilot: { error: message } });
      return;
    }

    const rate = state.lastSample ? Math.max(0, ((sample.arrivedSeq - state.lastSample.arrivedSeq) * 1000) / Math.max(1, now - state.lastSample.timeMs)) : 0;
    state.lastSample = { arrivedSeq: sample.arrivedSeq, timeMs: now };
    const labels = { namespace, cluster: name };
    this.options.metrics.backlog.set(labels, sample.backlog);

    const events: [string, string][] = [];
    const statusPatch: ChatClusterStatus = {};

    const previousReplicas = state.scaler.current;
    const decision = state.scaler.observe({ backlog: sample.backlog, timeMs: now });
    this.options.metrics.desiredReplicas.set(labels, decision.replicas);
    if (decision.replicas !== cr.status?.autopilot?.desiredReplicas) {
      statusPatch.autopilot = { desiredReplicas: decision.replicas, lastScaleTime: new Date(now).toISOString() };
      if (decision.changed) {
        events.push(['Scaled', `message-service ${previousReplicas} -> ${decision.replicas} replicas (backlog ${sample.backlog}, ${spec.messageService.backlogPerReplica} per replica)`]);
      }
    }

    const tuned =
      spec.batching.mode === 'auto'
        ? { ...state.tuner.observe({ backlog: sample.backlog, rate, timeMs: now }), source: 'autopilot' }
        : { batchSize: spec.batching.batchSize, flushIntervalMs: spec.batching.flushIntervalMs, source: 'operator' };
    const settings: BatchSettings = { batchSize: tuned.batchSize, flushIntervalMs: tuned.flushIntervalMs, source: tuned.source };
    this.options.metrics.batchSize.set(labels, settings.batchSize);
    this.options.metrics.flushInterval.set(labels, settings.flushIntervalMs);
    const w = state.written;
    if (!w || w.batchSize !== settings.batchSize || w.flushIntervalMs !== settings.flushIntervalMs || w.source !== settings.source) {
      await state.telemetry.writeSettings(settings);
      state.written = settings;
      events.push([
        'BatchingTuned',
        `batch size ${w?.batchSize ?? '-'} -> ${settings.batchSize}, flush interval ${w?.flushIntervalMs ?? '-'} -> ${settings.flushIntervalMs} ms (${spec.batching.mode}, backlog ${sample.backlog}, ${Math.round(rate)} msg/s)`,
      ]);
    }
    const b = cr.status?.batching;
    if (!b || b.batchSize !== settings.batchSize || b.flushIntervalMs !== settings.flushIntervalMs || b.mode !== spec.batching.mode) {
      statusPatch.batching = { mode: spec.batching.mode, batchSize: settings.batchSize, flushIntervalMs: settings.flushIntervalMs, source: settings.source! };
    }

    const statusEveryMs = this.options.statusEveryMs ?? 5_000;
    const depthChanged = cr.status?.autopilot?.queueDepth !== sample.backlog;
    if (statusPatch.autopilot || statusPatch.batching || cr.status?.autopilot?.error || (depthChanged && now - state.lastStatusAt >= statusEveryMs)) {
      statusPatch.autopilot = {
        ...statusPatch.autopilot,
        queueDepth: sample.backlog,
        ratePerSecond: Math.round(rate * 10) / 10,
        lastObservedTime: new Date(now).toISOString(),
        error: null as unknown as string, // merge patch: null removes the field
      };
      state.lastStatusAt = now;
      await this.patchStatus(cr, statusPatch);
    }
    if (decision.changed) this.options.manager.enqueue(namespace, name); // render the new replica count now
    for (const [reason, message] of events) await this.options.manager.events.record(cr, 'Normal', reason, message);
  }

  private async patchStatus(cr: ChatCluster, status: ChatClusterStatus): Promise<void> {
    try {
      await this.options.client.mergePatch(kinds.ChatCluster, cr.metadata.namespace, cr.metadata.name!, { status }, 'status');
    } catch (error) {
      this.options.logger.warn({ err: String(error) }, 'autopilot could not write status');
    }
  }
}
