import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBareBroadcastServer, type BareBroadcastServer } from '../src/bench/bare-broadcast-server.js';
import { runConfigFromFlags } from '../src/config/cli-options.js';
import { runLoad } from '../src/run/load-run.js';
import type { LoadReport } from '../src/report/report-types.js';

// The bare broadcast server is a real `ws` server speaking the Chorus protocol subset; this checks the
// load tester end to end (sockets, login, joins, accounting, reports) in a couple of seconds.
let server: BareBroadcastServer;
let outDir: string;
const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));

/** Runs the CLI without blocking this process (the server under test lives here). */
function runCli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env, timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

before(async () => {
  server = await startBareBroadcastServer();
  outDir = mkdtempSync(join(tmpdir(), 'loadtest-'));
});
after(async () => {
  await server.close();
  rmSync(outDir, { recursive: true, force: true });
});

function assertCleanReport(report: LoadReport, users: number): void {
  assert.equal(report.connections.established, users);
  assert.equal(report.connections.failed, 0);
  assert.ok(report.messages.sent > 0);
  assert.equal(report.messages.acked, report.messages.sent);
  assert.equal(report.deliveries.lost, 0);
  assert.equal(report.deliveries.duplicates, 0);
  assert.equal(report.deliveries.orderViolations, 0);
  assert.ok(report.deliveries.expected > report.messages.acked, 'rooms have several members');
  assert.equal(report.deliveries.delivered, report.deliveries.expected);
  assert.equal(report.latency.deliveryMs.count, report.deliveries.delivered);
  assert.ok(report.latency.deliveryMs.p50 > 0 && report.latency.deliveryMs.p50 <= report.latency.deliveryMs.p99);
  assert.ok(report.latency.ackMs.p99 > 0);
  assert.ok(report.series.length >= 2);
  assert.ok(report.histograms.deliveryMs.length > 0);
  assert.ok(Number.isFinite(report.loadTester.memoryPerUserBytes.rss) && report.loadTester.peakRssBytes > 0);
  assert.equal(report.slo.passed, true, report.slo.violations.join('; '));
}

test('steady run over real sockets: every owed delivery arrives once, in order', async () => {
  const config = runConfigFromFlags(
    'steady',
    { gateway: [server.url], users: '200', duration: '2s', rate: '100', largeRoom: '150', drainTimeout: '10s' },
    {},
  );
  const report = await runLoad(config);
  assertCleanReport(report, 200);
  assert.equal(report.config.roomSizes[0]!.size, 150, 'the large room is the largest');
  assert.ok(report.throughput.offeredPerSec > 80 && report.throughput.offeredPerSec <= 100.5);
});

test('an SLO threshold below the measured latency fails the run', async () => {
  const config = runConfigFromFlags(
    'steady',
    { gateway: [server.url], users: '50', duration: '1s', rate: '20', sloDeliveryP99: '0' },
    {},
  );
  const report = await runLoad(config);
  assert.equal(report.deliveries.lost, 0);
  assert.equal(report.slo.passed, false);
  assert.match(report.slo.violations.join('\n'), /delivery p99 .* > 0 ms/);
});

test('CLI: new-year run writes the JSON and a self-contained HTML report and exits 0', async () => {
  const result = await runCli(
    ['new-year', '--gateway', server.url, '--users', '300', '--duration', '3s', '--burst-at', '1s', '--burst-window', '1s', '--out', outDir, '--progress', 'lines'],
  );
  assert.equal(result.status, 0, result.stderr + result.stdout);
  assert.match(result.stdout, /SLO: PASS/);
  assert.match(result.stderr, /\[loadtest\] phase send/, 'plain progress lines when not a TTY');
  const report = JSON.parse(readFileSync(join(outDir, 'report.json'), 'utf8')) as LoadReport;
  assertCleanReport(report, 300);
  assert.equal(report.profile, 'new-year');
  const peak = Math.max(...report.series.map((p) => p.sent));
  assert.ok(peak >= 100, `the burst is visible in the series (peak ${peak} sends/s)`);
  const html = readFileSync(join(outDir, 'report.html'), 'utf8');
  assert.doesNotMatch(html, /<script[^>]+src=/i, 'no external scripts');
  assert.doesNotMatch(html, /https?:\/\/cdn/i);
  assert.match(html, /new Chart\(document.getElementById\('latency'\)/);
  assert.ok(html.length > 100_000, 'chart.js is inlined');
});

test('CLI: a bad flag exits 2 with a message naming it', async () => {
  const result = await runCli(['steady', '--gateway', server.url, '--users', 'lots']);
  assert.equal(result.status, 2);
  assert.match(result.stderr, /--users: "lots" is not an integer/);
  const noGateway = await runCli(['steady'], { ...process.env, LOADTEST_GATEWAY: '' });
  assert.equal(noGateway.status, 2);
  assert.match(noGateway.stderr, /no gateway/);
});

test('CLI: an unreachable gateway counts connection failures and exits 1', async () => {
  const result = await runCli(
    ['steady', '--gateway', 'http://127.0.0.1:1', '--users', '5', '--duration', '1s', '--rate', '5', '--out', outDir, '--progress', 'off'],
  );
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stdout, /connection failures: 5 > 0 allowed/);
});
