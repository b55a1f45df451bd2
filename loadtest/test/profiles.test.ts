import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRoomMix } from '../src/config/room-mix.js';
import { buildRoomPlan } from '../src/plan/room-plan.js';
import { buildSchedule } from '../src/profiles/build-schedule.js';
import type { ProfileOptions, Schedule } from '../src/profiles/schedule.js';

const base: ProfileOptions = {
  durationMs: 10_000,
  rate: 100,
  rampFromRate: 10,
  quietRate: 5,
  burstAtMs: 4000,
  burstWindowMs: 2000,
  burstFraction: 0.9,
  largeRoomShare: 0.2,
  seed: 42,
};

function assertWellFormed(s: Schedule, options: ProfileOptions, plan: ReturnType<typeof buildRoomPlan>): void {
  for (let i = 0; i < s.count; i++) {
    assert.ok(s.atMs[i]! >= 0 && s.atMs[i]! <= options.durationMs, `send ${i} at ${s.atMs[i]} is outside the run`);
    if (i > 0) assert.ok(s.atMs[i]! >= s.atMs[i - 1]!, 'schedule is sorted by time');
    assert.ok(plan.userRooms[s.sender[i]!]!.includes(s.room[i]!), 'a user only sends to its own rooms');
  }
}

test('room plan: every user has one home room, sizes follow the mix, the large room holds the first N users', () => {
  const plan = buildRoomPlan(1000, parseRoomMix('2:50,10:50'), 300);
  assert.equal(plan.largeRoom, 0);
  assert.equal(plan.roomMembers[0]!.length, 300);
  const home = plan.roomMembers.slice(1);
  assert.equal(home.reduce((n, m) => n + m.length, 0), 1000);
  assert.equal(home.filter((m) => m.length === 2).length, 250);
  assert.equal(home.filter((m) => m.length === 10).length, 50);
  for (let u = 0; u < 1000; u++) assert.equal(plan.userRooms[u]!.length, u < 300 ? 2 : 1);
});

test('room plan: rejects a large room bigger than the population', () => {
  assert.throws(() => buildRoomPlan(10, parseRoomMix('2:1'), 11), /cannot be larger/);
});

test('room mix: weights are normalised and bad entries are named', () => {
  assert.deepEqual(parseRoomMix('2:1,4:3'), [
    { size: 2, share: 0.25 },
    { size: 4, share: 0.75 },
  ]);
  assert.throws(() => parseRoomMix('2:1,four:3'), /"four:3" is not size:weight/);
  assert.throws(() => parseRoomMix('0:1'), /size must be at least 1/);
});

test('steady: rate x duration sends, evenly spread, deterministic per seed', () => {
  const plan = buildRoomPlan(200, parseRoomMix('5:1'), 100);
  const s = buildSchedule('steady', plan, base);
  assert.equal(s.count, 1000);
  assertWellFormed(s, base, plan);
  const firstHalf = s.atMs.filter((t) => t < 5000).length;
  assert.equal(firstHalf, 500);
  const again = buildSchedule('steady', plan, base);
  assert.deepEqual(again.sender, s.sender);
  const other = buildSchedule('steady', plan, { ...base, seed: 7 });
  assert.notDeepEqual(other.sender, s.sender);
  const toLarge = Array.from(s.room).filter((r) => r === plan.largeRoom).length;
  // 100 of 200 users are large-room members and send there 20% of the time: about 10% of all sends.
  assert.ok(toLarge > 50 && toLarge < 160, `${toLarge} sends to the large room`);
});

test('ramp: the offered rate rises from rampFrom to rate', () => {
  const plan = buildRoomPlan(200, parseRoomMix('5:1'), 0);
  const s = buildSchedule('ramp', plan, base);
  assert.equal(s.count, Math.round(((10 + 100) / 2) * 10));
  assertWellFormed(s, base, plan);
  const inSecond = (k: number): number => s.atMs.filter((t) => t >= k * 1000 && t < (k + 1) * 1000).length;
  assert.ok(Math.abs(inSecond(0) - 14.5) <= 1, `first second: ${inSecond(0)}`);
  assert.ok(Math.abs(inSecond(9) - 95.5) <= 1, `last second: ${inSecond(9)}`);
  for (let k = 1; k < 10; k++) assert.ok(inSecond(k) >= inSecond(k - 1), 'non-decreasing per second');
});

test('new-year: quiet, then burstFraction of users each send once inside the window, then quiet', () => {
  const plan = buildRoomPlan(1000, parseRoomMix('2:30,20:70'), 1000);
  const s = buildSchedule('new-year', plan, base);
  assertWellFormed(s, base, plan);
  const quietCount = 5 * 10;
  assert.equal(s.count, quietCount + 900);
  const inBurst = [...s.atMs.keys()].filter((i) => s.atMs[i]! >= 4000 && s.atMs[i]! <= 6000);
  // Every burst send is in the window, plus the quiet sends that fall in it (5/s x 2 s).
  assert.equal(inBurst.length, 900 + 10);
  const before = s.atMs.filter((t) => t < 4000).length;
  const after = s.atMs.filter((t) => t > 6000).length;
  assert.equal(before, 20);
  assert.equal(after, 20);
  const burstSenders = new Set(inBurst.map((i) => s.sender[i]));
  assert.ok(burstSenders.size >= 900, 'burst senders are distinct users');
});
