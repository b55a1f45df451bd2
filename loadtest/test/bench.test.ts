import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRows } from '../src/bench/bench-rows.js';
import { formatBenchTable, formatCpuProfile, formatOneAddressTable, formatPeerTable } from '../src/bench/bench-table.js';
import { cpuByKind, cpuShares } from '../src/bench/cpu-profile.js';
import { platformProcessKind } from '../src/bench/platform-process-kind.js';
import { SenderOrder } from '../src/bench/peers/sender-order.js';
import { cpuSecondsFromStat, processCpuSeconds } from '../src/bench/process-cpu.js';
import type { RowResult, RunMeasure } from '../src/bench/run-row.js';
import { defaultSaturationRules, keepsUp, saturationPoint, shouldContinue, type StepResult } from '../src/bench/saturation.js';

const step = (offered: number, delivered: number, p99 = 10, lost = 0): StepResult => ({
  offeredSendsPerSec: offered,
  expectedDeliveriesPerSec: offered * 10,
  deliveredPerSec: delivered,
  deliveryP99Ms: p99,
  lost,
  errors: 0,
});

test('saturation: keep stepping while the delivered rate grows and latency holds', () => {
  const rules = defaultSaturationRules;
  const steps = [step(100, 1000), step(160, 1600), step(256, 2560)];
  assert.equal(shouldContinue(steps, rules), true);
  // Delivered stops rising (offered 409/s owes 4090/s, only 2600/s arrive): stop; the point is the last good step.
  const flat = [...steps, step(409, 2600)];
  assert.equal(keepsUp(flat[3]!, rules), false);
  assert.equal(shouldContinue(flat, rules), false);
  assert.equal(saturationPoint(flat, rules)?.offeredSendsPerSec, 256);
});

test('saturation: exploding latency or any loss ends the search', () => {
  const rules = defaultSaturationRules;
  assert.equal(shouldContinue([step(100, 1000), step(160, 1600, 5000)], rules), false);
  assert.equal(shouldContinue([step(100, 1000), step(160, 1600, 10, 1)], rules), false);
  assert.equal(saturationPoint([step(100, 1000), step(160, 1600, 5000)], rules)?.offeredSendsPerSec, 100);
  assert.equal(saturationPoint([step(100, 500)], rules), undefined, 'the first step did not keep up');
});

test('saturation: growth below 5% stops even when each step keeps up', () => {
  assert.equal(shouldContinue([step(100, 1000), step(101, 1010)], defaultSaturationRules), false);
});

test('process CPU: utime + stime from /proc/<pid>/stat, even with spaces in the command name', () => {
  const stat = '1234 (node worker (x)) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 12345 1000 200';
  assert.equal(cpuSecondsFromStat(stat), 3);
  const self = processCpuSeconds(process.pid);
  assert.ok(self !== undefined && self >= 0);
  assert.equal(processCpuSeconds(2 ** 22 + 12345), undefined, 'a missing pid has no CPU');
});

const measure = (delivered: number, p50: number, p99: number): RunMeasure => ({
  ...step(100, delivered, p99),
  deliveryP50Ms: p50,
  errorsByCode: {},
  settings: undefined,
  ackP50Ms: 1,
  ackP99Ms: 2,
  expected: 1000,
  delivered: 1000,
  cpuSeconds: 1,
  cpuSecondsByKind: { gateway: 0.5, NATS: 0.25, redis: 0.25 },
  loadTesterCpuSeconds: 0.25,
  keptUp: true,
});

const row = (key: string, label: string, delivered: number): RowResult => ({
  key,
  label,
  steps: [],
  saturation: measure(delivered, 2, 20),
  saturated: key !== 'd',
  at25: measure(delivered / 4, 1.25, 9.5),
  at50: measure(delivered / 2, 150.4, 1234.5),
  lost: 0,
  errors: 0,
  cpuMsPer1000: 0.5,
  seconds: 10,
});

test('bench table: ratios to (b) and (d) and formatted latencies', () => {
  const table = formatBenchTable([row('a', '(a) batch 1', 1000), row('b', '(b) fixed', 4000), row('d', '(d) bare', 20000)]);
  const lines = table.split('\n');
  assert.equal(lines.length, 7 + 1 + 7, 'the rows table, a blank line, the CPU profile (no peers ran: no peer table)');
  assert.match(lines[4]!, /^\| \(d\) bare \| ≥ 20,000 \|/, 'an unsaturated row shows a lower bound');
  assert.match(lines[6]!, /step limit/);
  assert.match(lines[2]!, /^\| \(a\) batch 1 \| 1,000 \| 100 \| 1\.3 \/ 9\.5 \| 150 \/ 1235 \| 0 \| 0\.5 \| 0\.25x \| 0\.05x \|$/);
  assert.match(lines[3]!, /\| 1\.00x \| 0\.20x \|$/);
  assert.match(lines[4]!, /\| 5\.00x \| 1\.00x \|$/);
});

test('peer table: Chorus (c) divided by each peer', () => {
  const c = { ...row('c', '(c) autopilot', 20000), cpuMsPer1000: 60 };
  const e = { ...row('e', '(e) Centrifugo', 80000), cpuMsPer1000: 15 };
  const lines = formatPeerTable([row('b', '(b) fixed', 4000), c, e]).split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^\| Chorus \(c\) ÷ peer \|/);
  assert.equal(lines[2], '| (e) Centrifugo | 0.25x | 4.00x | 1.00x | 1.00x | 1.00x | 1.00x |');
  assert.equal(formatPeerTable([e]), '', 'no Chorus row: no ratios');
  assert.equal(formatPeerTable([c]), '', 'no peer row: no ratios');
});

test('one-address table: rows (g) and (h) divided by row (c), only when both ran', () => {
  const c = { ...row('c', '(c) autopilot', 20000), cpuMsPer1000: 60 };
  const g = { ...row('g', '(g) one address', 19000), cpuMsPer1000: 63 };
  const lines = formatOneAddressTable([c, g]).split('\n');
  assert.equal(lines[2], '| (g) one address ÷ (c) | 0.95x | 1.05x | 1.00x / 1.00x | 1.00x / 1.00x |');
  assert.equal(formatOneAddressTable([c]), '');
  assert.deepEqual(parseRows('one-address,chorus,nginx'), ['g', 'c', 'h']);
});

test('CPU profile: shares per process kind at 50% of saturation, largest first', () => {
  const lines = formatCpuProfile([row('c', '(c) autopilot', 4000)]).split('\n');
  assert.equal(lines[4], '| (c) autopilot | 100 → 2,000 | 1.00 | 1000 | gateway 50%, NATS 25%, redis 25% | 250 |');
  const byKind = cpuByKind(
    [
      { name: 'gateway-1', pid: 1, kind: 'gateway' },
      { name: 'gateway-2', pid: 2, kind: 'gateway' },
      { name: 'nats-server', pid: 3, kind: 'NATS' },
      { name: 'gone', pid: 4, kind: 'database' },
    ],
    new Map([[1, 1], [2, 2], [3, 5], [4, 1]]),
    new Map([[1, 2], [2, 4], [3, 5.5]]),
  );
  assert.deepEqual(byKind, { gateway: 3, NATS: 0.5 });
  assert.deepEqual(cpuShares(byKind).map((s) => [s.kind, s.share]), [['gateway', 3 / 3.5], ['NATS', 0.5 / 3.5]]);
  assert.deepEqual(cpuShares({}), []);
  assert.deepEqual(
    ['gateway-2', 'message-service-1', 'nats-server', 'redis-server', 'ferretdb'].map(platformProcessKind),
    ['gateway', 'message-service', 'NATS', 'redis', 'database'],
  );
});

test('rows: keys and aliases, in the given order, unknown ones refused', () => {
  assert.deepEqual(parseRows('chorus,centrifugo,socketio'), ['c', 'e', 'f']);
  assert.deepEqual(parseRows('d, a,a'), ['d', 'a']);
  assert.throws(() => parseRows('c,haproxy'), /"haproxy" is not a row/);
  assert.throws(() => parseRows(' , '), /no rows/);
});

test('sender order: each sender in order at each receiver, senders may interleave', () => {
  const order = new SenderOrder();
  for (const id of ['m1.0', 'ma.0', 'm1.2', 'ma.1', 'm1.3']) order.onDelivery(0, id);
  order.onDelivery(1, 'm1.3');
  order.onDelivery(1, 'm1.2');
  assert.equal(order.violations, 1, 'only receiver 1 saw sender 1 out of order');
  order.onDelivery(0, 'nonsense');
  assert.equal(order.malformed, 1);
});
