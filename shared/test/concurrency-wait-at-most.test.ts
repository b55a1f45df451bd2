import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitAtMost } from '../src/concurrency/wait-at-most.js';

test('waitAtMost: true when the work settles in time (a rejection too), false when the time runs out first', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  assert.equal(await waitAtMost(Promise.resolve('done'), 1_000), true);
  assert.equal(await waitAtMost(Promise.reject(new Error('failed')), 1_000), true);
  const never = new Promise<void>(() => {});
  const waiting = waitAtMost(never, 1_000);
  t.mock.timers.tick(999);
  let settled = false;
  void waiting.then(() => (settled = true));
  await Promise.resolve();
  assert.equal(settled, false, 'still waiting before the time is up');
  t.mock.timers.tick(1);
  assert.equal(await waiting, false);
});

test('waitAtMost with no bound waits for the work alone', async () => {
  let finish!: () => void;
  const work = new Promise<void>((resolve) => (finish = resolve));
  const waiting = waitAtMost(work, Number.POSITIVE_INFINITY);
  finish();
  assert.equal(await waiting, true);
});
