import type { RowResult } from './run-row.js';

/** The bench table as Markdown (it goes to the terminal and, verbatim, into docs/benchmarks.md). */
export function formatBenchTable(rows: readonly RowResult[]): string {
  const b = rows.find((r) => r.key === 'b')?.saturation?.deliveredPerSec;
  const d = rows.find((r) => r.key === 'd')?.saturation?.deliveredPerSec;
  const header =
    '| row | delivered msgs/s at saturation | sends/s at saturation | p50 / p99 at 25% (ms) | p50 / p99 at 75% (ms) | loss | CPU s per 1,000 delivered | vs (b) | vs (d) |';
  const rule = '|---|---:|---:|---:|---:|---:|---:|---:|---:|';
  const lines = rows.map((r) => {
    const sat = r.saturation;
    const tput = sat ? Math.round(sat.deliveredPerSec) : undefined;
    return [
      r.label,
      tput === undefined ? 'n/a' : `${r.saturated ? '' : '≥ '}${tput.toLocaleString('en-US')}`,
      sat ? sat.offeredSendsPerSec.toFixed(0) : 'n/a',
      r.at25 ? `${fmt(r.at25.deliveryP50Ms)} / ${fmt(r.at25.deliveryP99Ms)}` : 'n/a',
      r.at75 ? `${fmt(r.at75.deliveryP50Ms)} / ${fmt(r.at75.deliveryP99Ms)}` : 'n/a',
      String(r.lost),
      r.cpuSecondsPer1000 === undefined ? 'n/a' : r.cpuSecondsPer1000.toFixed(3),
      ratio(tput, b),
      ratio(tput, d),
    ];
  });
  const notes = rows.some((r) => !r.saturated)
    ? ['', '≥: the search reached its step limit while the row still kept up; its capacity is higher.']
    : [];
  return [header, rule, ...lines.map((cells) => `| ${cells.join(' | ')} |`), ...notes].join('\n');
}

function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

function ratio(value: number | undefined, base: number | undefined): string {
  if (value === undefined || base === undefined || base === 0) return 'n/a';
  return `${(value / base).toFixed(2)}x`;
}
