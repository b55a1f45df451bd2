import { chorusRow, oneAddressRows, peerRows } from './bench-rows.js';
import { cpuShares } from './cpu-profile.js';
import type { RowResult, RunMeasure } from './run-row.js';

/**
 * The bench's tables as Markdown (they go to the terminal and, verbatim, into docs/benchmarks.md):
 * every row, Chorus against each peer, and where each row's CPU goes.
 */
export function formatBenchTable(rows: readonly RowResult[]): string {
  return [formatRowsTable(rows), formatPeerTable(rows), formatOneAddressTable(rows), formatCpuProfile(rows)].filter((t) => t.length > 0).join('\n\n');
}

export function formatRowsTable(rows: readonly RowResult[]): string {
  const b = delivered(rows.find((r) => r.key === 'b'));
  const d = delivered(rows.find((r) => r.key === 'd'));
  const header =
    '| row | delivered msgs/s at saturation | sends/s at saturation | p50 / p99 at 25% (ms) | p50 / p99 at 50% (ms) | loss | CPU ms per 1,000 delivered | vs (b) | vs (d) |';
  const rule = '|---|---:|---:|---:|---:|---:|---:|---:|---:|';
  const lines = rows.map((r) => {
    const sat = r.saturation;
    const tput = delivered(r);
    return [
      r.label,
      tput === undefined ? 'n/a' : `${r.saturated ? '' : '≥ '}${tput.toLocaleString('en-US')}`,
      sat ? sat.offeredSendsPerSec.toFixed(0) : 'n/a',
      latency(r.at25),
      latency(r.at50),
      String(r.lost),
      r.cpuMsPer1000 === undefined ? 'n/a' : fmt(r.cpuMsPer1000),
      ratio(tput, b),
      ratio(tput, d),
    ];
  });
  const notes = rows.some((r) => !r.saturated)
    ? ['', '≥: the search reached its step limit while the row still kept up; its capacity is higher.']
    : [];
  return [header, rule, ...lines.map((cells) => `| ${cells.join(' | ')} |`), ...notes].join('\n');
}

/** Chorus (row c) divided by each peer that ran; empty when Chorus or every peer is missing. */
export function formatPeerTable(rows: readonly RowResult[]): string {
  const chorus = rows.find((r) => r.key === chorusRow);
  const peers = rows.filter((r) => peerRows.includes(r.key as never));
  if (!chorus || peers.length === 0) return '';
  const header =
    `| Chorus ${chorus.label.split(' ')[0]} ÷ peer | delivered msgs/s at saturation | CPU ms per 1,000 delivered | p50 at 25% | p99 at 25% | p50 at 50% | p99 at 50% |`;
  const rule = '|---|---:|---:|---:|---:|---:|---:|';
  const lines = peers.map((p) =>
    [
      p.label,
      ratio(delivered(chorus), delivered(p)),
      ratio(chorus.cpuMsPer1000, p.cpuMsPer1000),
      ratio(chorus.at25?.deliveryP50Ms, p.at25?.deliveryP50Ms),
      ratio(chorus.at25?.deliveryP99Ms, p.at25?.deliveryP99Ms),
      ratio(chorus.at50?.deliveryP50Ms, p.at50?.deliveryP50Ms),
      ratio(chorus.at50?.deliveryP99Ms, p.at50?.deliveryP99Ms),
    ],
  );
  return [header, rule, ...lines.map((cells) => `| ${cells.join(' | ')} |`)].join('\n');
}

/** Each one-address row (g, h) divided by per-gateway ports (row c), measured in the same run. */
export function formatOneAddressTable(rows: readonly RowResult[]): string {
  const ports = rows.find((r) => r.key === chorusRow);
  const fronts = rows.filter((r) => oneAddressRows.includes(r.key as never));
  if (!ports || fronts.length === 0) return '';
  const header = '| one address ÷ per-gateway ports | delivered msgs/s at saturation | CPU ms per 1,000 delivered | p50 / p99 at 25% | p50 / p99 at 50% |';
  const rule = '|---|---:|---:|---:|---:|';
  const lines = fronts.map((front) => [
    `${front.label} ÷ ${ports.label.split(' ')[0]}`,
    ratio(delivered(front), delivered(ports)),
    ratio(front.cpuMsPer1000, ports.cpuMsPer1000),
    `${ratio(front.at25?.deliveryP50Ms, ports.at25?.deliveryP50Ms)} / ${ratio(front.at25?.deliveryP99Ms, ports.at25?.deliveryP99Ms)}`,
    `${ratio(front.at50?.deliveryP50Ms, ports.at50?.deliveryP50Ms)} / ${ratio(front.at50?.deliveryP99Ms, ports.at50?.deliveryP99Ms)}`,
  ]);
  return [header, rule, ...lines.map((cells) => `| ${cells.join(' | ')} |`)].join('\n');
}

/** Each row's CPU per process kind over its 50%-of-saturation step (a fixed load per row). */
export function formatCpuProfile(rows: readonly RowResult[]): string {
  const measured = rows.filter((r) => r.at50 && cpuShares(r.at50.cpuSecondsByKind).length > 0);
  if (measured.length === 0) return '';
  const header =
    '| row | load (sends/s → deliveries/s) | CPU s | CPU ms per 1,000 delivered | CPU share by process kind | load tester CPU ms per 1,000 |';
  const rule = '|---|---:|---:|---:|---|---:|';
  const lines = measured.map((r) => {
    const m = r.at50!;
    const shares = cpuShares(m.cpuSecondsByKind)
      .map((s) => `${s.kind} ${(s.share * 100).toFixed(0)}%`)
      .join(', ');
    return [
      r.label,
      `${m.offeredSendsPerSec.toFixed(0)} → ${Math.round(m.deliveredPerSec).toLocaleString('en-US')}`,
      m.cpuSeconds.toFixed(2),
      m.delivered > 0 ? fmt((m.cpuSeconds / m.delivered) * 1_000_000) : 'n/a',
      shares,
      m.delivered > 0 ? fmt((m.loadTesterCpuSeconds / m.delivered) * 1_000_000) : 'n/a',
    ];
  });
  return ['CPU profile at 50% of each row\'s saturation:', '', header, rule, ...lines.map((cells) => `| ${cells.join(' | ')} |`)].join('\n');
}

function delivered(row: RowResult | undefined): number | undefined {
  return row?.saturation ? Math.round(row.saturation.deliveredPerSec) : undefined;
}

function latency(m: RunMeasure | undefined): string {
  return m ? `${fmt(m.deliveryP50Ms)} / ${fmt(m.deliveryP99Ms)}` : 'n/a';
}

function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

function ratio(value: number | undefined, base: number | undefined): string {
  if (value === undefined || base === undefined || base === 0) return 'n/a';
  return `${(value / base).toFixed(2)}x`;
}
