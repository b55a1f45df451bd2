import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { LoadReport } from './report-types.js';
import { formatSummary } from './summary-table.js';

/**
 * chart.js's UMD build, read from node_modules and inlined: the report is one self-contained file
 * that opens offline (no CDN).
 */
export function chartJsSource(): string {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('chart.js'); // .../chart.js/dist/chart.cjs
  return readFileSync(join(dirname(entry), 'chart.umd.min.js'), 'utf8');
}

/** Keeps inlined text from closing the <script> element early. */
function scriptSafe(text: string): string {
  return text.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);
}

/** The HTML report: summary, latency over time, throughput over time, latency histogram. */
export function renderHtmlReport(report: LoadReport): string {
  const data = scriptSafe(JSON.stringify({ series: report.series, histograms: report.histograms }));
  const verdictClass = report.slo.passed ? 'pass' : 'fail';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Chorus load test ${escapeHtml(report.profile)} ${escapeHtml(report.runId)}</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1100px; }
  pre { background: #f6f6f6; padding: 1rem; overflow-x: auto; }
  .pass { color: #11772f; } .fail { color: #b3261e; }
  .chart { position: relative; height: 320px; margin-bottom: 2.5rem; }
</style>
</head>
<body>
<h1>Chorus load test: ${escapeHtml(report.profile)}</h1>
<p>Run <code>${escapeHtml(report.runId)}</code> started ${escapeHtml(report.startedAt)} against ${escapeHtml(report.gateways.join(', '))}.
<strong class="${verdictClass}">SLO ${report.slo.passed ? 'passed' : 'failed'}</strong></p>
<pre>${escapeHtml(formatSummary(report))}</pre>
<h2>Latency over time</h2>
<div class="chart"><canvas id="latency"></canvas></div>
<h2>Throughput over time</h2>
<div class="chart"><canvas id="throughput"></canvas></div>
<h2>Latency histogram</h2>
<div class="chart"><canvas id="histogram"></canvas></div>
<script id="report-data" type="application/json">${data}</script>
<script>${scriptSafe(chartJsSource())}</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var s = data.series;
  var t = s.map(function (p) { return p.t; });
  // Intervals without samples have latency 0: drawn as gaps, not as points on a log axis.
  function line(label, key, color, axis, zeroIsGap) {
    return { label: label, yAxisID: axis || 'y', spanGaps: false, data: s.map(function (p) { return zeroIsGap && p[key] === 0 ? null : p[key]; }),
      borderColor: color, backgroundColor: color, pointRadius: 0, borderWidth: 1.5 };
  }
  var time = { type: 'linear', title: { display: true, text: 'seconds since the send phase started' } };
  new Chart(document.getElementById('latency'), {
    type: 'line',
    data: { labels: t, datasets: [
      line('delivery p50', 'deliveryP50', '#1f77b4', 'y', true), line('delivery p90', 'deliveryP90', '#17becf', 'y', true),
      line('delivery p99', 'deliveryP99', '#d62728', 'y', true), line('delivery max', 'deliveryMax', '#bbbbbb', 'y', true),
      line('ack p50', 'ackP50', '#2ca02c', 'y', true), line('ack p99', 'ackP99', '#ff7f0e', 'y', true)] },
    options: { animation: false, maintainAspectRatio: false, scales: { x: time, y: { type: 'logarithmic', title: { display: true, text: 'ms' } } } }
  });
  new Chart(document.getElementById('throughput'), {
    type: 'line',
    data: { labels: t, datasets: [
      line('sent /s', 'sent', '#9467bd', 'sends'), line('acked /s', 'acked', '#2ca02c', 'sends'),
      line('errors /s', 'errors', '#d62728', 'sends'), line('delivered /s', 'delivered', '#1f77b4', 'y')] },
    options: { animation: false, maintainAspectRatio: false, scales: { x: time,
      y: { beginAtZero: true, position: 'left', title: { display: true, text: 'deliveries per second' } },
      sends: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: 'sends, acks, errors per second' } } } }
  });
  var bins = data.histograms.deliveryMs;
  var ackBins = data.histograms.ackMs;
  var edges = Array.from(new Set(bins.concat(ackBins).map(function (b) { return b.fromMs; }))).sort(function (a, b) { return a - b; });
  function countsFor(list) { return edges.map(function (e) { var b = list.find(function (x) { return x.fromMs === e; }); return b ? b.count : 0; }); }
  new Chart(document.getElementById('histogram'), {
    type: 'bar',
    data: { labels: edges.map(function (e) { return '≥ ' + (e < 1 ? e.toFixed(2) : e < 10 ? e.toFixed(1) : Math.round(e)) + ' ms'; }), datasets: [
      { label: 'send -> delivery', data: countsFor(bins), backgroundColor: '#1f77b4' },
      { label: 'send -> ack', data: countsFor(ackBins), backgroundColor: '#2ca02c' }] },
    options: { animation: false, maintainAspectRatio: false, scales: { y: { type: 'logarithmic', title: { display: true, text: 'count' } } } }
  });
})();
</script>
</body>
</html>
`;
}
