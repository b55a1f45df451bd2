import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlatform } from '@chorus/local/platform';
import { runConfigFromFlags } from '@chorus/loadtest/config/cli-options';
import { runLoad } from '@chorus/loadtest/run/load-run';
import { formatSummary } from '@chorus/loadtest/report/summary-table';

// The load tester's simulated users follow a draining gateway: gateway-1 gets SIGTERM as the send
// phase starts; its users get the reconnect frame, move to gateway-2 after the delay it gave, and
// resume their rooms from the last position they hold. The run's ledger: nothing lost, repeated
// or out of order.

let platform: Awaited<ReturnType<typeof startPlatform>> | undefined;
let dataDir = '';

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'chorus-loadtest-drain-'));
  platform = await startPlatform({ gateways: 2, messageServices: 1, dataDir, serviceEnv: { DRAIN_WINDOW_MS: '1500', DRAIN_TIMEOUT_MS: '8000' } });
});

after(async () => {
  await platform?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('a gateway drains mid-run: its users reconnect to the other and resume; 0 lost, 0 duplicated, 0 reordered', { timeout: 120_000 }, async () => {
  const users = 60;
  const config = runConfigFromFlags(
    'steady',
    { gateway: platform!.gatewayUrls, users: String(users), duration: '6s', rate: '40', largeRoom: '30', drainTimeout: '30s', sloDeliveryP99: '20000', sloAckP99: '20000' },
    {},
  );
  let drained: Promise<void> | undefined;
  const report = await runLoad(config, undefined, {
    onSendPhaseStart: () => (drained = platform!.control('gateway-1').stop(15_000)),
  });
  await drained;
  console.log(formatSummary(report));

  const c = report.connections;
  assert.equal(c.established, users);
  assert.equal(c.drainNotices, users / 2, 'every user of gateway-1 got the reconnect frame');
  assert.equal(c.reconnects, users / 2, 'and reconnected');
  assert.equal(c.droppedDuringRun, 0);
  assert.deepEqual(c.byGateway, { 'gateway-2': users }, 'everyone ends on the gateway left');
  assert.equal(report.messages.errors, 0, JSON.stringify(report.messages.errorsByCode));
  assert.ok(report.messages.sent >= 150, `sent ${report.messages.sent}`);
  assert.equal(report.messages.acked, report.messages.sent);
  const d = report.deliveries;
  assert.equal(d.lost, 0);
  assert.equal(d.duplicates, 0);
  assert.equal(d.orderViolations, 0);
  assert.equal(d.deliveriesOfUnackedMessages, 0);
  assert.equal(d.unexpectedDeliveries, 0);
  assert.ok(d.expected > report.messages.acked, 'messages fan out to rooms');
  assert.equal(d.delivered, d.expected);
});
