import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadReport } from '../src/report/report-types.js';
import { evaluateSlo } from '../src/report/slo.js';
import type { SloThresholds } from '../src/run/run-config.js';

const lenient: SloThresholds = { deliveryP99Ms: 1e9, ackP99Ms: 1e9, maxErrors: 1e9, maxConnectFailures: 1e9 };

/** The fields evaluateSlo reads, with a clean run's values unless overridden. */
function report(over: { lost?: number; duplicates?: number; order?: number; deliveryP99?: number; ackP99?: number; errors?: number; dropped?: number; failed?: number; acked?: number }): Omit<LoadReport, 'slo'> {
  const latency = (p99: number) => ({ count: 1, min: 1, mean: 1, p50: 1, p90: 1, p99, max: p99 });
  return {
    deliveries: { lost: over.lost ?? 0, expected: 100, duplicates: over.duplicates ?? 0, orderViolations: over.order ?? 0 },
    messages: { acked: over.acked ?? 10, scheduled: 10, errors: over.errors ?? 0 },
    latency: { deliveryMs: latency(over.deliveryP99 ?? 5), ackMs: latency(over.ackP99 ?? 5) },
    connections: { droppedDuringRun: over.dropped ?? 0, failed: over.failed ?? 0 },
  } as unknown as Omit<LoadReport, 'slo'>;
}

test('a clean run passes', () => {
  assert.deepEqual(evaluateSlo(report({}), { deliveryP99Ms: 10, ackP99Ms: 10, maxErrors: 0, maxConnectFailures: 0 }), []);
});

test('loss, duplicates and order violations break the run whatever the thresholds', () => {
  assert.match(evaluateSlo(report({ lost: 1 }), lenient).join(), /loss: 1 of 100/);
  assert.match(evaluateSlo(report({ duplicates: 2 }), lenient).join(), /duplicates: 2/);
  assert.match(evaluateSlo(report({ order: 3 }), lenient).join(), /order: 3/);
  assert.match(evaluateSlo(report({ acked: 0 }), lenient).join(), /no message was acknowledged/);
});

test('thresholds: latency, errors (dropped sockets count), connection failures', () => {
  const slo: SloThresholds = { deliveryP99Ms: 100, ackP99Ms: 50, maxErrors: 2, maxConnectFailures: 1 };
  assert.match(evaluateSlo(report({ deliveryP99: 101 }), slo).join(), /delivery p99 101 ms > 100 ms/);
  assert.deepEqual(evaluateSlo(report({ deliveryP99: 100 }), slo), [], 'the threshold itself passes');
  assert.match(evaluateSlo(report({ ackP99: 60 }), slo).join(), /ack p99 60 ms > 50 ms/);
  assert.match(evaluateSlo(report({ errors: 2, dropped: 1 }), slo).join(), /errors: 3 > 2 allowed/);
  assert.match(evaluateSlo(report({ failed: 2 }), slo).join(), /connection failures: 2 > 1 allowed/);
});
