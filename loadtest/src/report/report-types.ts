import type { DeliveryTotals } from '../metrics/delivery-tracker.js';
import type { LatencyBin, LatencySummary } from '../metrics/latency-histogram.js';
import type { SeriesPoint } from '../metrics/time-series.js';
import type { ProfileName, ProfileOptions } from '../profiles/schedule.js';
import type { SloThresholds } from '../run/run-config.js';

/** The JSON report (report.json). Latencies are milliseconds, rates per second, memory bytes. */
export interface LoadReport {
  tool: 'chorus-loadtest';
  reportVersion: 1;
  runId: string;
  startedAt: string;
  profile: ProfileName;
  gateways: string[];
  config: {
    users: number;
    rooms: number;
    roomSizes: { size: number; rooms: number }[];
    largeRoomSize: number;
    messageSize: number;
    schedule: ProfileOptions;
    connectConcurrency: number;
  };
  phasesSeconds: { connect: number; join: number; send: number; drain: number; total: number };
  connections: {
    attempted: number;
    established: number;
    failed: number;
    failuresByCode: Record<string, number>;
    setupMs: LatencySummary;
    /** Sockets that closed during the run without the load tester asking. */
    droppedDuringRun: number;
    /** `reconnect` frames received: a gateway drained under these users. */
    drainNotices: number;
    /** Users that left a draining gateway (by its frame, or its close 1012) and resumed on another. */
    reconnects: number;
    /** Established sockets per gateway, as the servers' `welcome` frames named them. */
    byGateway: Record<string, number>;
  };
  messages: {
    scheduled: number;
    sent: number;
    acked: number;
    /** Sends that got neither an ack nor an error before the drain timeout. */
    unanswered: number;
    /** Sends skipped because the sender's socket was not open. */
    skipped: number;
    errorsByCode: Record<string, number>;
    /** The first server message seen for each error code. */
    errorExamples: Record<string, string>;
    errors: number;
    /** How late sends went out versus the schedule: large values mean the load tester was the bottleneck. */
    scheduleLagMs: LatencySummary;
  };
  deliveries: DeliveryTotals & { lossRatio: number };
  latency: { ackMs: LatencySummary; deliveryMs: LatencySummary };
  throughput: {
    offeredPerSec: number;
    ackedPerSec: number;
    deliveredPerSec: number;
    peakDeliveredPerSec: number;
  };
  loadTester: {
    peakRssBytes: number;
    memoryPerUserBytes: { rss: number; heapUsed: number };
    cpuSeconds: number;
    eventLoopUtilization: number;
  };
  series: SeriesPoint[];
  histograms: { deliveryMs: LatencyBin[]; ackMs: LatencyBin[] };
  slo: { thresholds: SloThresholds; violations: string[]; passed: boolean };
}
