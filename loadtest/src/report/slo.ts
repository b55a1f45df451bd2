import type { LoadReport } from './report-types.js';
import type { SloThresholds } from '../run/run-config.js';

/**
 * The checks that decide the exit code. Loss, duplicates and order violations break the run at any
 * count: a chat that drops or reorders messages is wrong, not slow.
 */
export function evaluateSlo(report: Omit<LoadReport, 'slo'>, slo: SloThresholds): string[] {
  const violations: string[] = [];
  const d = report.deliveries;
  if (d.lost > 0) violations.push(`loss: ${d.lost} of ${d.expected} expected deliveries never arrived`);
  if (d.duplicates > 0) violations.push(`duplicates: ${d.duplicates} deliveries were repeats`);
  if (d.orderViolations > 0) violations.push(`order: ${d.orderViolations} per-room order violations`);
  if (report.messages.acked === 0 && report.messages.scheduled > 0) violations.push('no message was acknowledged');
  if (report.latency.deliveryMs.p99 > slo.deliveryP99Ms) {
    violations.push(`delivery p99 ${report.latency.deliveryMs.p99} ms > ${slo.deliveryP99Ms} ms`);
  }
  if (report.latency.ackMs.p99 > slo.ackP99Ms) {
    violations.push(`ack p99 ${report.latency.ackMs.p99} ms > ${slo.ackP99Ms} ms`);
  }
  const errors = report.messages.errors + report.connections.droppedDuringRun;
  if (errors > slo.maxErrors) violations.push(`errors: ${errors} > ${slo.maxErrors} allowed`);
  if (report.connections.failed > slo.maxConnectFailures) {
    violations.push(`connection failures: ${report.connections.failed} > ${slo.maxConnectFailures} allowed`);
  }
  return violations;
}
