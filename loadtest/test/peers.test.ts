import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultScenario, stepConfig } from '../src/bench/bench-scenario.js';
import type { BenchTarget } from '../src/bench/bench-target.js';
import { centrifugoMissing, startCentrifugoTarget } from '../src/bench/peers/centrifugo-target.js';
import { PeerLoadRun } from '../src/bench/peers/peer-load-run.js';
import { startSocketIoTarget } from '../src/bench/peers/socketio-target.js';
import { parseRoomMix } from '../src/config/room-mix.js';
import { buildRoomPlan } from '../src/plan/room-plan.js';
import { cpuDelta, totalCpuSeconds } from '../src/bench/process-cpu.js';

// Each peer for real (its server processes and redis-server), driven by its bench load driver
// over a short bounded load in the bench's room mix: every message must reach every member of its
// room exactly once, counted independently of the driver's own accounting.
const scenario = { ...defaultScenario, users: 120, largeRoomSize: 60, largeRoomShare: 0.05 };

/** `positioned`: whether the system gives each delivery a per-room position (Centrifugo's offset). */
async function checkPeer(target: BenchTarget, positioned: boolean): Promise<void> {
  const pids = () => target.processes().map((p) => p.pid);
  let cpuBefore = new Map<number, number>();
  let cpuAfter = new Map<number, number>();
  const config = { ...stepConfig(scenario, target.gateways, 40, 't1'), drainTimeoutMs: 10_000, drainIdleTimeoutMs: 5_000 };
  assert.ok(target.driver, 'a peer brings its own load driver');
  const driver = target.driver(config, {
    onSendPhaseStart: () => (cpuBefore = totalCpuSeconds(pids())),
    onDrained: () => (cpuAfter = totalCpuSeconds(pids())),
  });
  try {
    await driver.setup();
    const spec = driver.schedulePhase({ ...config.schedule, durationMs: 2000, rate: 40 }, 'steady');
    const report = await driver.measure(spec);

    // Deliveries owed, from the plan and schedule alone: every member of the room, sender included.
    const plan = buildRoomPlan(scenario.users, parseRoomMix(scenario.roomMix), scenario.largeRoomSize);
    let owed = 0;
    for (let i = 0; i < spec.schedule.count; i++) owed += plan.roomMembers[spec.schedule.room[i]!]!.length;
    assert.ok(spec.schedule.count >= 70, `a few dozen sends (${spec.schedule.count})`);
    assert.ok(Array.from(spec.schedule.room).includes(plan.largeRoom), 'the large room got messages too');

    assert.equal(report.connections.failed, 0, JSON.stringify(report.connections.failuresByCode));
    assert.equal(report.messages.errors, 0, JSON.stringify(report.messages.errorsByCode));
    assert.equal(report.messages.sent, spec.schedule.count);
    assert.equal(report.messages.acked, spec.schedule.count);
    assert.equal(report.deliveries.expected, owed);
    assert.equal(report.deliveries.delivered, owed);
    assert.equal(report.deliveries.lost, 0);
    assert.equal(report.deliveries.duplicates, 0);
    assert.equal(report.deliveries.orderViolations, 0);
    assert.equal(report.latency.deliveryMs.count, owed, 'a latency for every delivery');
    assert.ok(report.latency.deliveryMs.p50 > 0 && report.latency.deliveryMs.p50 <= report.latency.deliveryMs.p99);
    assert.ok(report.throughput.deliveredPerSec > 0);
    assert.ok(driver instanceof PeerLoadRun);
    assert.equal(driver.deliveriesWithPosition, positioned ? owed : 0, 'room order checked by position where the system has one');
    assert.ok(cpuDelta(cpuBefore, cpuAfter) > 0, 'the peer processes used CPU under load');
    assert.ok(target.processes().some((p) => p.kind === 'redis'), 'redis-server counts for the peer');
  } finally {
    await driver.close();
    await target.finish();
  }
}

test('Socket.IO peer: 2 processes + Redis adapter deliver every message to every room member', { timeout: 30_000 }, async () => {
  await checkPeer(await startSocketIoTarget(), false);
});

const missing = centrifugoMissing();
if (missing) process.stdout.write(`Centrifugo peer test skipped: ${missing}\n`);
test(
  'Centrifugo peer: 2 nodes + Redis engine deliver every message to every room member, in offset order',
  { timeout: 30_000, skip: missing ? `Centrifugo is not built (bash scripts/bootstrap.sh centrifugo)` : false },
  async () => {
    await checkPeer(await startCentrifugoTarget(), true);
  },
);
