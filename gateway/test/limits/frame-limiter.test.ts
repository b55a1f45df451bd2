import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameLimits } from '../../src/limits/frame-limiter.js';

function fakeClock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

const settings = {
  socketSends: { ratePerSec: 10, burst: 5 },
  userSends: { ratePerSec: 10, burst: 8 },
  socketFrames: { ratePerSec: 10, burst: 3 },
};

test('sends are limited per socket, with the limit named and a retry hint', () => {
  const clock = fakeClock();
  const limits = new FrameLimits(settings, clock.now);
  const socket = limits.open('ann');
  for (let i = 0; i < 5; i++) assert.deepEqual(socket.admit('send'), { ok: true });
  assert.deepEqual(socket.admit('send'), { ok: false, limit: 'socketSends', retryAfterMs: 100 });
  assert.deepEqual(socket.admit('other'), { ok: true }, 'other frames have their own bucket');
});

test("sends are limited per user over the user's sockets; other users are not affected", () => {
  const clock = fakeClock();
  const limits = new FrameLimits(settings, clock.now);
  const first = limits.open('ann');
  const second = limits.open('ann');
  const bob = limits.open('bob');
  for (let i = 0; i < 5; i++) assert.equal(first.admit('send').ok, true);
  for (let i = 0; i < 3; i++) assert.equal(second.admit('send').ok, true);
  const refused = second.admit('send');
  assert.deepEqual(refused, { ok: false, limit: 'userSends', retryAfterMs: 100 }, 'the user bucket (8) is spent though this socket sent 3');
  for (let i = 0; i < 5; i++) assert.equal(bob.admit('send').ok, true, 'bob has buckets of his own');
  clock.advance(100);
  assert.equal(second.admit('send').ok, true, 'a token back after 100 ms');
});

test('a send refused by one bucket takes no token from the other', () => {
  const clock = fakeClock();
  const limits = new FrameLimits({ ...settings, userSends: { ratePerSec: 10, burst: 1 } }, clock.now);
  const a = limits.open('ann');
  const b = limits.open('ann');
  assert.equal(a.admit('send').ok, true);
  for (let i = 0; i < 10; i++) assert.equal(b.admit('send').ok, false);
  clock.advance(100);
  for (let i = 0; i < 4; i++) {
    assert.equal(b.admit('send').ok, true, `socket b still has its own burst (${i})`);
    clock.advance(100);
  }
});

test('other frames are limited per socket', () => {
  const clock = fakeClock();
  const limits = new FrameLimits(settings, clock.now);
  const socket = limits.open('ann');
  for (let i = 0; i < 3; i++) assert.equal(socket.admit('other').ok, true);
  assert.deepEqual(socket.admit('other'), { ok: false, limit: 'socketFrames', retryAfterMs: 100 });
});

test("the per-user map holds users with open sockets only: the last socket's release drops the entry", () => {
  const limits = new FrameLimits(settings);
  const sockets = Array.from({ length: 1000 }, (_, i) => limits.open(`user-${i % 100}`));
  assert.equal(limits.trackedUsers(), 100);
  for (const socket of sockets.slice(0, 900)) socket.release();
  assert.equal(limits.trackedUsers(), 100, 'each user still has a socket');
  for (const socket of sockets.slice(900)) {
    socket.release();
    socket.release(); // twice is harmless
  }
  assert.equal(limits.trackedUsers(), 0);
});
