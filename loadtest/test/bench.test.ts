import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBenchTable } from '../src/bench/bench-table.js';
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
  keptUp: true,
});

const row = (key: string, label: string, delivered: number): RowResult => ({
  key,
  label,
  steps: [],
  saturation: measure(delivered, 2, 20),
  saturated: key !== 'd',
  at25: measure(delivered / 4, 1.25, 9.5),
  at75: measure((delivered * 3) / 4, 150.4, 1234.5),
  lost: 0,
  errors: 0,
  cpuSecondsPer1000: 0.5,
  seconds: 10,
});

test('bench table: ratios to (b) and (d) and formatted latencies', () => {
  const table = formatBenchTable([row('a', '(a) batch 1', 1000), row('b', '(b) fixed', 4000), row('d', '(d) bare', 20000)]);
  const lines = table.split('\n');
  assert.equal(lines.length, 7);
  assert.match(lines[4]!, /^\| \(d\) bare \| ≥ 20,000 \|/, 'an unsaturated row shows a lower bound');
  assert.match(lines[6]!, /step limit/);
  assert.match(lines[2]!, /^\| \(a\) batch 1 \| 1,000 \| 100 \| 1\.3 \/ 9\.5 \| 150 \/ 1235 \| 0 \| 0\.500 \| 0\.25x \| 0\.05x \|$/);
  assert.match(lines[3]!, /\| 1\.00x \| 0\.20x \|$/);
  assert.match(lines[4]!, /\| 5\.00x \| 1\.00x \|$/);
});
