import type { LatencySummary } from '../metrics/latency-histogram.js';
import type { LoadReport } from './report-types.js';

/** The end-of-run summary for the terminal: a plain two-column table plus the SLO verdict. */
export function formatSummary(report: LoadReport): string {
  const c = report.connections;
  const m = report.messages;
  const d = report.deliveries;
  const t = report.throughput;
  const lt = report.loadTester;
  const rows: [string, string][] = [
    ['profile', `${report.profile} (run ${report.runId}) against ${report.gateways.join(', ')}`],
    ['users / rooms', `${report.config.users} users in ${report.config.rooms} rooms (largest ${report.config.roomSizes[0]?.size ?? 0} members)`],
    ['phases (s)', `connect ${report.phasesSeconds.connect}, join ${report.phasesSeconds.join}, send ${report.phasesSeconds.send}, drain ${report.phasesSeconds.drain}`],
    ['connections', `${c.established}/${c.attempted} up, ${c.failed} failed${codes(c.failuresByCode)}, ${c.droppedDuringRun} dropped, ${c.reconnects} reconnected after ${c.drainNotices} drain notices`],
    ['served by', Object.entries(c.byGateway).map(([gateway, n]) => `${gateway} ${n}`).join(', ') || '-'],
    ['connect set-up', latency(c.setupMs)],
    ['messages', `${m.sent} sent of ${m.scheduled} scheduled, ${m.acked} acked, ${m.unanswered} unanswered, ${m.skipped} skipped`],
    ['errors', `${m.errors}${codes(m.errorsByCode)}`],
    ...Object.entries(m.errorExamples).map(([code, text]): [string, string] => [`  e.g. ${code}`, text]),
    ['send -> ack', latency(report.latency.ackMs)],
    ['send -> delivery', latency(report.latency.deliveryMs)],
    ['deliveries', `${d.delivered}/${d.expected} (loss ${d.lost}, ${(d.lossRatio * 100).toFixed(4)}%)`],
    ['duplicates / order', `${d.duplicates} duplicates, ${d.orderViolations} order violations`],
    ['throughput (/s)', `offered ${t.offeredPerSec}, acked ${t.ackedPerSec}, delivered ${t.deliveredPerSec} (peak ${t.peakDeliveredPerSec})`],
    ['schedule lag', latency(m.scheduleLagMs)],
    [
      'load tester',
      `peak RSS ${mb(lt.peakRssBytes)}, ${kb(lt.memoryPerUserBytes.rss)} RSS / ${kb(lt.memoryPerUserBytes.heapUsed)} heap per user, ` +
        `${lt.cpuSeconds} CPU s, event loop ${(lt.eventLoopUtilization * 100).toFixed(0)}% busy`,
    ],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
  const verdict = report.slo.passed
    ? 'SLO: PASS'
    : `SLO: FAIL\n${report.slo.violations.map((v) => `  - ${v}`).join('\n')}`;
  return `\nChorus load test summary\n${lines.join('\n')}\n${verdict}\n`;
}

function latency(s: LatencySummary): string {
  if (s.count === 0) return 'no samples';
  return `p50 ${s.p50} ms, p90 ${s.p90} ms, p99 ${s.p99} ms, max ${s.max} ms (n=${s.count})`;
}

function codes(byCode: Record<string, number>): string {
  const entries = Object.entries(byCode);
  return entries.length === 0 ? '' : ` (${entries.map(([k, v]) => `${k}: ${v}`).join(', ')})`;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}
