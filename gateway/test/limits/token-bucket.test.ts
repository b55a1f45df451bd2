import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from '../../src/limits/token-bucket.js';

/** A clock the test moves by hand. */
function fakeClock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

test('a bucket allows its burst at once, then refuses with the wait until the next token', () => {
  const clock = fakeClock();
  const bucket = new TokenBucket({ ratePerSec: 10, burst: 3 }, clock.now);
  assert.deepEqual([bucket.take(), bucket.take(), bucket.take()], [0, 0, 0]);
  assert.equal(bucket.take(), 100, 'one token every 100 ms at 10/s');
  clock.advance(40);
  assert.equal(bucket.take(), 60, 'the wait shrinks as time passes');
  clock.advance(60);
  assert.equal(bucket.take(), 0);
  assert.equal(bucket.take(), 100);
});

test('a refused take costs nothing, and the bucket refills up to its burst only', () => {
  const clock = fakeClock();
  const bucket = new TokenBucket({ ratePerSec: 2, burst: 2 }, clock.now);
  bucket.take();
  bucket.take();
  for (let i = 0; i < 100; i++) assert.ok(bucket.take() > 0, 'refused while empty');
  clock.advance(500);
  assert.equal(bucket.take(), 0, 'refusals did not dig a hole: one token after 500 ms');
  clock.advance(60_000);
  assert.equal(bucket.full(), true);
  assert.deepEqual([bucket.take(), bucket.take(), bucket.take() > 0], [0, 0, true], 'a long pause gives back the burst, no more');
});

test('the sustained rate is the configured one', () => {
  const clock = fakeClock();
  const bucket = new TokenBucket({ ratePerSec: 20, burst: 5 }, clock.now);
  let allowed = 0;
  for (let ms = 0; ms < 10_000; ms++) {
    if (bucket.take() === 0) allowed++;
    clock.advance(1);
  }
  assert.ok(allowed >= 204 && allowed <= 206, `10 s at 20/s plus a burst of 5: ${allowed}`);
});

test('peek does not take; a clock that steps back does not add tokens', () => {
  const clock = fakeClock();
  const bucket = new TokenBucket({ ratePerSec: 1, burst: 1 }, clock.now);
  assert.equal(bucket.peek(), 0);
  assert.equal(bucket.take(), 0);
  clock.advance(-5_000);
  assert.equal(bucket.take(), 1000);
  assert.throws(() => new TokenBucket({ ratePerSec: 0, burst: 1 }));
});
