import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rawReplicas, ReplicaScaler, type ScalerConfig } from '../../src/autopilot/replica-scaler.js';

const config: ScalerConfig = { minReplicas: 1, maxReplicas: 8, backlogPerReplica: 1000, scaleUpStabilizationMs: 0, scaleDownStabilizationMs: 30_000 };

test('replicas = ceil(backlog / backlogPerReplica), clamped to min and max', () => {
  assert.equal(rawReplicas(0, config), 1);
  assert.equal(rawReplicas(1000, config), 1);
  assert.equal(rawReplicas(1001, config), 2);
  assert.equal(rawReplicas(4500, config), 5);
  assert.equal(rawReplicas(1e9, config), 8);
  assert.equal(rawReplicas(-3, config), 1);
});

test('scales up at once (no up window) and down only after the down window', () => {
  const scaler = new ReplicaScaler(config, 1);
  assert.deepEqual(scaler.observe({ backlog: 5200, timeMs: 0 }), { replicas: 6, recommended: 6, changed: true });
  // Backlog drained: still 6 until 30 s of low recommendations.
  for (let t = 1000; t < 30_000; t += 1000) assert.equal(scaler.observe({ backlog: 0, timeMs: t }).replicas, 6, `at ${t}`);
  assert.equal(scaler.observe({ backlog: 0, timeMs: 31_000 }).replicas, 1);
});

test('a scale-up window ignores a brief spike', () => {
  const scaler = new ReplicaScaler({ ...config, scaleUpStabilizationMs: 3000 }, 1);
  assert.equal(scaler.observe({ backlog: 0, timeMs: 0 }).replicas, 1);
  assert.equal(scaler.observe({ backlog: 9000, timeMs: 1000 }).replicas, 1);
  assert.equal(scaler.observe({ backlog: 0, timeMs: 2000 }).replicas, 1);
  // A sustained backlog does scale, once the window holds only high recommendations.
  for (let t = 3000; t <= 6000; t += 1000) scaler.observe({ backlog: 4000, timeMs: t });
  assert.equal(scaler.current, 4);
});

test('an alternating backlog does not flap replicas', () => {
  const scaler = new ReplicaScaler(config, 1);
  let changes = 0;
  for (let t = 0; t < 120_000; t += 1000) {
    if (scaler.observe({ backlog: (t / 1000) % 2 ? 6000 : 500, timeMs: t }).changed) changes++;
  }
  assert.equal(changes, 1); // up to 6 once, never down (a high recommendation is always within the window)
  assert.equal(scaler.current, 6);
});

test('bad configuration is refused', () => {
  assert.throws(() => new ReplicaScaler({ ...config, minReplicas: 5, maxReplicas: 2 }, 1), /maxReplicas/);
  assert.throws(() => new ReplicaScaler({ ...config, backlogPerReplica: 0 }, 1), /backlogPerReplica/);
});
