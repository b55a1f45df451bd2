import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LoadDriver } from '../src/load/load-driver.js';
import { v2Protocol } from '../src/protocol/v2-protocol.js';
import { FakeGateways } from './support/fake-gateways.js';

/**
 * The chaos client's own logic against in-memory v2 gateways: a lost ack is resent with the same
 * clientMsgId and `resend: true`; when a gateway dies its clients move to the other one and
 * resume with `after` = the last position they hold; the ledger ends with nothing lost.
 */
let gateways: FakeGateways;
before(async () => {
  gateways = await FakeGateways.start(2);
});
after(async () => {
  await gateways.stop();
});

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('lost acks are resent, a dead gateway’s clients resume on the other, and the ledger balances', async () => {
  gateways.dropAckOf.add('chaos-u1.2');
  const driver = await LoadDriver.start({
    gatewayUrls: gateways.urls,
    protocol: v2Protocol,
    shape: { users: 4, roomSize: 2, sendsPerSecond: 100, maxSendSeconds: 10 },
    prefix: 'chaos',
    ackTimeoutMs: 300,
  });
  try {
    driver.startSending();
    await until(() => driver.ledger.snapshot().acked >= 30, '30 acks');
    gateways.kill(0); // users 0 and 2 were on gateway 0
    await until(() => driver.stats.disconnects >= 2 && driver.snapshot().connected === 4, 'the reconnects');
    const ackedAtKill = driver.ledger.snapshot().acked;
    await until(() => driver.ledger.snapshot().acked >= ackedAtKill + 30, '30 more acks');
    assert.equal(await driver.drain(5_000), true, 'every send acked and every acked message delivered');
    const report = driver.ledger.report();
    assert.deepEqual(
      { lost: report.lost, duplicated: report.duplicated, reordered: report.reordered, conflicts: report.positionConflicts },
      { lost: 0, duplicated: 0, reordered: 0, conflicts: 0 },
      report.samples.join('\n'),
    );
    assert.equal(report.delivered, report.owed);
    assert.equal(driver.stats.invalidFrames, 0);

    const sendsOf = (id: string) => gateways.frames.filter((f) => f.frame.type === 'send' && f.frame.clientMsgId === id).map((f) => f.frame);
    const lostAck = sendsOf('chaos-u1.2');
    assert.ok(lostAck.length >= 2, 'the send whose ack was lost went out again');
    assert.equal(lostAck[0]!.resend, undefined, 'a first try is not a resend');
    assert.ok(lostAck.slice(1).every((f) => f.resend === true), 'every retry says resend: true');
    assert.ok(driver.stats.timeouts >= 1);

    const resumes = gateways.frames.filter((f) => f.user === 'chaos-u0' && f.frame.type === 'join' && f.gateway === 1);
    assert.ok(resumes.length >= 1, 'user 0 resumed its room on gateway 1');
    assert.ok(typeof resumes[0]!.frame.after === 'number' && resumes[0]!.frame.after > 0, 'with after = the position it held');
    assert.equal(resumes[0]!.frame.after % 3, 0, 'a position the gateway gave out (they step by 3)');
  } finally {
    driver.close();
  }
});
