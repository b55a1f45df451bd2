import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryLedger } from '../src/ledger/delivery-ledger.js';

/** A ledger on a clock the test moves by hand. */
function ledgerAt() {
  const clock = { now: 0 };
  const ledger = new DeliveryLedger({ maxMessages: 100, now: () => clock.now });
  ledger.addMember('r', 'alice', 0);
  ledger.addMember('r', 'bob', 0);
  return { ledger, clock };
}

test('every acked message delivered once to every member, in order: nothing lost, duplicated or reordered', () => {
  const { ledger, clock } = ledgerAt();
  ledger.acked('r', 'alice', 'm1', 1);
  ledger.acked('r', 'alice', 'm2', 3); // v2: positions need not be consecutive
  clock.now = 100;
  for (const member of ['alice', 'bob']) {
    assert.equal(ledger.delivered(member, 'r', 'm1', 'alice', 1, 0), 'kept');
    assert.equal(ledger.delivered(member, 'r', 'm2', 'alice', 3, 1), 'kept');
  }
  const report = ledger.report();
  assert.deepEqual(
    [report.acked, report.owed, report.delivered, report.lost, report.duplicated, report.reordered, report.positionConflicts],
    [2, 4, 4, 0, 0, 0, 0],
  );
  assert.equal(report.stallMs, 100, 'owed from the ack at 0 to the delivery at 100');
  assert.equal(ledger.lastHeld('bob', 'r'), 3);
});

test('an acked message a member never got is lost, and the stall runs until the end', () => {
  const { ledger, clock } = ledgerAt();
  ledger.acked('r', 'alice', 'm1', 1);
  ledger.delivered('alice', 'r', 'm1', 'alice', 1, 0);
  clock.now = 5_000;
  const report = ledger.report();
  assert.equal(report.lost, 1);
  assert.equal(report.lostMessages, 1);
  assert.equal(report.stallMs, 5_000);
  assert.equal(report.stallRoom, 'r');
  assert.match(report.samples.join('\n'), /lost: bob .*pos 1 of r/);
});

test('a second delivery of one id is a duplicate; a delivery after a gap is out of order and dropped until the resume', () => {
  const { ledger } = ledgerAt();
  ledger.acked('r', 'alice', 'm1', 1);
  ledger.acked('r', 'alice', 'm2', 2);
  ledger.acked('r', 'alice', 'm3', 3);
  assert.equal(ledger.delivered('bob', 'r', 'm1', 'alice', 1, 0), 'kept');
  assert.equal(ledger.delivered('bob', 'r', 'm1', 'alice', 1, 0), 'duplicate');
  // m2 is skipped: m3's prev (2) is not what bob holds (1).
  assert.equal(ledger.delivered('bob', 'r', 'm3', 'alice', 3, 2), 'out-of-order');
  assert.equal(ledger.snapshot().reordered, 1);
  assert.equal(ledger.delivered('bob', 'r', 'm3', 'alice', 3, 2), 'out-of-order');
  assert.equal(ledger.snapshot().reordered, 1, 'one break counts once until the resume');
  assert.equal(ledger.lastHeld('bob', 'r'), 1, 'the resume starts after the last position in order');
  ledger.resumed('bob', 'r');
  assert.equal(ledger.delivered('bob', 'r', 'm2', 'alice', 2, 1), 'kept');
  assert.equal(ledger.delivered('bob', 'r', 'm3', 'alice', 3, 2), 'kept', 'not a duplicate: the dropped copy did not count');
  assert.equal(ledger.delivered('bob', 'r', 'm1', 'alice', 1, 0), 'duplicate');
  const report = ledger.report();
  assert.deepEqual([report.duplicated, report.reordered], [2, 1]);
  assert.equal(report.delivered, 3);
});

test('a position below the one held is out of order', () => {
  const { ledger } = ledgerAt();
  ledger.acked('r', 'alice', 'm2', 2);
  ledger.delivered('bob', 'r', 'x', 'alice', 2, 1); // bob's stream starts at 2 with prev 1 but bob holds 0
  assert.equal(ledger.snapshot().reordered, 1);
  ledger.resumed('bob', 'r');
  ledger.delivered('bob', 'r', 'm1', 'alice', 1, 0);
  ledger.delivered('bob', 'r', 'm2', 'alice', 2, 1);
  assert.equal(ledger.delivered('bob', 'r', 'old', 'alice', 1, 0), 'out-of-order');
  assert.equal(ledger.snapshot().reordered, 2);
});

test('delivered before the ack is fine once acked; delivered and never acked is reported; positions must agree', () => {
  const { ledger } = ledgerAt();
  ledger.delivered('bob', 'r', 'm1', 'alice', 1, 0);
  ledger.acked('r', 'alice', 'm1', 1);
  ledger.delivered('alice', 'r', 'm1', 'alice', 1, 0);
  ledger.delivered('bob', 'r', 'm2', 'alice', 2, 1);
  ledger.delivered('alice', 'r', 'm2', 'alice', 2, 1);
  ledger.acked('r', 'alice', 'm1', 1); // a resend answered again, same position: fine
  let report = ledger.report();
  assert.deepEqual([report.lost, report.deliveredBeforeAck, report.deliveredNeverAcked, report.positionConflicts], [0, 1, 1, 0]);
  ledger.acked('r', 'alice', 'm1', 7);
  report = ledger.report();
  assert.equal(report.positionConflicts, 1);
});

test('the ledger is bounded', () => {
  const ledger = new DeliveryLedger({ maxMessages: 2 });
  ledger.addMember('r', 'a', 0);
  ledger.acked('r', 'a', 'm1', 1);
  ledger.acked('r', 'a', 'm2', 2);
  assert.throws(() => ledger.acked('r', 'a', 'm3', 3), /ledger is full/);
});
