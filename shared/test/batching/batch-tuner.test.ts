import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchTuner, tuneBatch, type BatchBounds, type BatchTuning } from '../../src/batching/batch-tuner.js';

const bounds: BatchBounds = { minBatchSize: 10, maxBatchSize: 1000, minFlushMs: 5, maxFlushMs: 200, targetLatencyMs: 100 };

/**
 * A simulated message-service: one worker pulls up to batchSize messages; with fewer waiting it
 * waits up to flushIntervalMs for more; a batch costs 5 ms + 0.05 ms per message (one insertMany).
 * Small batches cap throughput at ~1.8k msg/s, large ones at ~18k msg/s, so a tuner that keeps
 * small batches under load lets the queue grow without bound.
 */
function simulate(arrivals: (tMs: number) => number, seconds: number, tuner = new BatchTuner(bounds)) {
  const stepMs = 1;
  let backlog = 0;
  let carry = 0;
  let busyUntil = 0;
  let waitingSince: number | undefined;
  let arrivedThisSecond = 0;
  let settings: BatchTuning = tuner.current;
  const samples: { t: number; backlog: number; batchSize: number; flushIntervalMs: number; changed: boolean }[] = [];
  for (let t = 0; t < seconds * 1000; t += stepMs) {
    carry += (arrivals(t) * stepMs) / 1000;
    const whole = Math.floor(carry);
    carry -= whole;
    backlog += whole;
    arrivedThisSecond += whole;
    if (t >= busyUntil && backlog > 0) {
      waitingSince ??= t;
      if (backlog >= settings.batchSize || t - waitingSince >= settings.flushIntervalMs) {
        const n = Math.min(backlog, settings.batchSize);
        backlog -= n;
        busyUntil = t + 5 + 0.05 * n;
        waitingSince = undefined;
      }
    }
    if (t % 1000 === 999) {
      const result = tuner.observe({ backlog, rate: arrivedThisSecond, timeMs: t });
      settings = result;
      samples.push({ t, backlog, batchSize: result.batchSize, flushIntervalMs: result.flushIntervalMs, changed: result.changed });
      arrivedThisSecond = 0;
    }
  }
  return samples;
}

function reversals(values: number[]): number {
  let count = 0;
  let direction = 0;
  for (let i = 1; i < values.length; i++) {
    const d = Math.sign(values[i]! - values[i - 1]!);
    if (d !== 0 && direction !== 0 && d !== direction) count++;
    if (d !== 0) direction = d;
  }
  return count;
}

test('a shallow, quiet queue gets the smallest batch and shortest wait (latency)', () => {
  const tuner = new BatchTuner(bounds);
  for (let t = 0; t <= 5000; t += 1000) tuner.observe({ backlog: 2, rate: 5, timeMs: t });
  assert.deepEqual(tuner.current, { batchSize: 10, flushIntervalMs: 5 });
});

test('a deep queue gets the largest batch, and the wait never exceeds the latency target', () => {
  assert.deepEqual(tuneBatch({ backlog: 50_000, rate: 0, timeMs: 0 }, bounds), { batchSize: 1000, flushIntervalMs: 100 });
  const tight = { ...bounds, targetLatencyMs: 20 };
  assert.equal(tuneBatch({ backlog: 50_000, rate: 0, timeMs: 0 }, tight).flushIntervalMs, 20);
});

test('settings stay within bounds for any telemetry, including garbage', () => {
  const tuner = new BatchTuner(bounds);
  let t = 0;
  for (const backlog of [0, 1, 7, 99, 1e3, 1e6, -5, Number.NaN, Infinity, 3]) {
    for (const rate of [0, 10, 1e4, -1, Number.NaN]) {
      t += 700;
      const s = tuner.observe({ backlog, rate, timeMs: t });
      assert.ok(s.batchSize >= 10 && s.batchSize <= 1000, `batch ${s.batchSize}`);
      assert.ok(s.flushIntervalMs >= 5 && s.flushIntervalMs <= 100, `flush ${s.flushIntervalMs}`);
      assert.ok(Number.isInteger(s.batchSize) && Number.isInteger(s.flushIntervalMs));
    }
  }
});

test('invalid bounds are refused', () => {
  assert.throws(() => new BatchTuner({ ...bounds, minBatchSize: 2000 }), /minBatchSize/);
  assert.throws(() => new BatchTuner({ ...bounds, minFlushMs: 0 }), /minFlushMs/);
});

test('steady load: converges and keeps the queue bounded, without oscillating', () => {
  const samples = simulate(() => 4000, 60);
  const tail = samples.slice(30);
  assert.equal(tail.filter((s) => s.changed).length <= 1, true, `settings still moving: ${JSON.stringify(tail.map((s) => s.batchSize))}`);
  assert.ok(Math.max(...tail.map((s) => s.backlog)) < 1000, `backlog not bounded: ${tail.map((s) => s.backlog).join(',')}`);
  assert.ok(reversals(samples.map((s) => s.batchSize)) <= 1, `batch size oscillates: ${samples.map((s) => s.batchSize).join(',')}`);
  // 4000 msg/s cannot be served by 10-message batches (~1.8k/s max): the tuner must have grown them.
  assert.ok(tail[0]!.batchSize > 10);
});

test('a spike is met with larger batches within a few seconds, and a lull relaxes them', () => {
  const spikeAt = 20_000;
  const endAt = 40_000;
  const samples = simulate((t) => (t >= spikeAt && t < endAt ? 12_000 : 300), 70);
  const before = samples.find((s) => s.t >= spikeAt - 1000)!;
  const reacted = samples.find((s) => s.t >= spikeAt && s.batchSize >= before.batchSize * 3);
  assert.ok(reacted, `no reaction: ${samples.map((s) => s.batchSize).join(',')}`);
  assert.ok(reacted.t - spikeAt <= 3000, `reacted after ${reacted.t - spikeAt} ms`);
  const duringSpike = samples.filter((s) => s.t >= spikeAt + 5000 && s.t < endAt);
  assert.ok(Math.max(...duringSpike.map((s) => s.backlog)) < 20_000, 'queue kept growing during the spike');
  const last = samples.at(-1)!;
  assert.ok(last.batchSize < reacted.batchSize, 'batches did not shrink after the spike');
  // One way up, one way down: no flapping in between.
  assert.ok(reversals(samples.map((s) => s.batchSize)) <= 2, samples.map((s) => s.batchSize).join(','));
});

test('noisy load (+-30 % every second) does not make settings flap', () => {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const noise = new Map<number, number>();
  const samples = simulate((t) => {
    const second = Math.floor(t / 1000);
    if (!noise.has(second)) noise.set(second, 0.7 + 0.6 * random());
    return 3000 * noise.get(second)!;
  }, 60);
  const trace = samples.map((s) => s.batchSize).join(',');
  assert.ok(reversals(samples.map((s) => s.batchSize)) <= 1, `flapping: ${trace}`);
  const lateChanges = samples.slice(30).filter((s) => s.changed).length;
  assert.ok(lateChanges <= 2, `${lateChanges} changes in the last 30 s: ${trace}`);
});
