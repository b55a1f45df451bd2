import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlatform } from '@chorus/local/platform';
import { repoRoot } from '@chorus/local/servers/binaries';
import type { LoadReport } from '@chorus/loadtest/report/report-types';

// The load tester's CLI against the real local platform (two gateways, a message service, NATS
// JetStream, Redis, FerretDB): a few hundred users through both gateways, a new-year burst with a
// large room, and every owed delivery must arrive exactly once, in order.

let platform: Awaited<ReturnType<typeof startPlatform>> | undefined;
let dataDir = '';

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'chorus-loadtest-smoke-'));
  platform = await startPlatform({ gateways: 2, messageServices: 1, dataDir });
});

after(async () => {
  await platform?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function runCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const cli = join(repoRoot, 'loadtest', 'dist', 'src', 'cli.js');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('new-year burst of 300 users over two gateways: zero loss, no duplicates, in order, full report', async () => {
  const out = join(dataDir, 'report');
  const result = await runCli([
    'new-year',
    '--gateway',
    platform!.gatewayUrls.join(','),
    '--users', '300',
    '--large-room', '200',
    '--large-room-share', '0.1',
    '--duration', '4s',
    '--burst-at', '1s',
    '--burst-window', '2s',
    '--quiet-rate', '5',
    '--drain-timeout', '30s',
    // Latency on a shared 2-core test machine is not what this test judges; correctness is.
    '--slo-delivery-p99', '20000',
    '--slo-ack-p99', '20000',
    '--out', out,
    '--progress', 'lines',
  ]);
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /SLO: PASS/);

  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as LoadReport;
  assert.equal(report.connections.established, 300);
  assert.deepEqual(report.gateways, platform!.gatewayUrls);
  assert.deepEqual(report.connections.byGateway, { 'gateway-1': 150, 'gateway-2': 150 }, 'users spread evenly over the gateways given');
  assert.ok(report.messages.sent >= 270, `the burst sent ${report.messages.sent}`);
  assert.equal(report.messages.acked, report.messages.sent);
  assert.equal(report.messages.errors, 0, JSON.stringify(report.messages.errorsByCode));
  assert.equal(report.deliveries.lost, 0);
  assert.equal(report.deliveries.duplicates, 0);
  assert.equal(report.deliveries.orderViolations, 0);
  assert.ok(report.deliveries.expected > report.messages.acked * 5, 'messages fan out to whole rooms');
  assert.equal(report.deliveries.delivered, report.deliveries.expected);
  assert.equal(report.config.roomSizes[0]!.size, 200, 'the large room is there');
  for (const field of ['p50', 'p90', 'p99', 'max'] as const) {
    assert.ok(report.latency.deliveryMs[field] > 0, `delivery ${field}`);
    assert.ok(report.latency.ackMs[field] > 0, `ack ${field}`);
  }
  assert.ok(report.connections.setupMs.p99 > 0);
  assert.ok(report.series.some((p) => p.delivered > 0));
  assert.ok(report.histograms.deliveryMs.length > 0);
  assert.ok(Number.isFinite(report.loadTester.memoryPerUserBytes.heapUsed) && report.loadTester.peakRssBytes > 0);
  const html = await readFile(join(out, 'report.html'), 'utf8');
  assert.match(html, /<canvas id="throughput">/);
  assert.doesNotMatch(html, /<script[^>]+src=/i);
});
