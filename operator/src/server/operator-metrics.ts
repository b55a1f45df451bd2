import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one operator process, served on /metrics. */
export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({ name: 'chorus_operator_reconcile_total', help: 'Reconciles by result', labelNames: ['result'], registers: [this.registry] });
  readonly reconcileSeconds = new Histogram({
    name: 'chorus_operator_reconcile_duration_seconds',
    help: 'Time per reconcile',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly applies = new Counter({ name: 'chorus_operator_applied_objects_total', help: 'Server-side applies by kind', labelNames: ['kind'], registers: [this.registry] });
  readonly deletes = new Counter({ name: 'chorus_operator_pruned_objects_total', help: 'Children deleted as no longer desired', labelNames: ['kind'], registers: [this.registry] });
  readonly leader = new Gauge({ name: 'chorus_operator_is_leader', help: '1 when this replica holds the lease', registers: [this.registry] });
  readonly queueDepth = new Gauge({ name: 'chorus_operator_workqueue_depth', help: 'Keys waiting in the work queue', registers: [this.registry] });
  readonly watchErrors = new Gauge({ name: 'chorus_operator_watch_errors', help: 'Failed list/watch attempts per kind', labelNames: ['kind'], registers: [this.registry] });
  readonly backlog = new Gauge({ name: 'chorus_autopilot_queue_depth', help: 'JetStream backlog (pending + ack pending)', labelNames: ['namespace', 'cluster'], registers: [this.registry] });
  readonly desiredReplicas = new Gauge({ name: 'chorus_autopilot_desired_replicas', help: 'Message-service replicas the autopilot wants', labelNames: ['namespace', 'cluster'], registers: [this.registry] });
  readonly batchSize = new Gauge({ name: 'chorus_autopilot_batch_size', help: 'Batch size written to the settings bucket', labelNames: ['namespace', 'cluster'], registers: [this.registry] });
  readonly flushInterval = new Gauge({ name: 'chorus_autopilot_flush_interval_ms', help: 'Flush interval written to the settings bucket', labelNames: ['namespace', 'cluster'], registers: [this.registry] });

  constructor(defaults = true) {
    if (defaults) collectDefaultMetrics({ register: this.registry });
  }

  reconciled(result: 'success' | 'error', seconds: number): void {
    this.reconciles.inc({ result });
    this.reconcileSeconds.observe(seconds);
  }

  applied(kind: string): void {
    this.applies.inc({ kind });
  }

  deleted(kind: string): void {
    this.deletes.inc({ kind });
  }
}
