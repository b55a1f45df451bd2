import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from '../../src/controller/work-queue.js';

test('a key added many times while waiting is handed out once', async () => {
  const q = new WorkQueue();
  q.add('a');
  q.add('b');
  q.add('a');
  assert.equal(q.length, 2);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  q.shutDown();
});

test('a key added while being processed is queued again after done, never given to two workers', async () => {
  const q = new WorkQueue();
  q.add('a');
  const key = await q.get();
  q.add('a');
  q.add('a');
  assert.equal(q.length, 0, 'not queued while processing');
  let second: string | undefined;
  void q.get().then((k) => (second = k));
  await new Promise((r) => setImmediate(r));
  assert.equal(second, undefined);
  q.done(key!);
  await new Promise((r) => setImmediate(r));
  assert.equal(second, 'a');
  q.done('a');
  assert.equal(q.length, 0);
  q.shutDown();
});

test('per-key exponential backoff, reset by forget', () => {
  const q = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 1000 });
  assert.deepEqual([q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a')], [100, 200, 400, 800, 1000]);
  assert.equal(q.addRateLimited('b'), 100, 'backoff is per key');
  q.forget('a');
  assert.equal(q.addRateLimited('a'), 100);
  q.shutDown();
});

test('addAfter delivers later; shutDown releases waiting workers', async () => {
  const q = new WorkQueue();
  const started = Date.now();
  const keepAlive = setTimeout(() => {}, 1000); // the queue's timers are unref'd, like a controller's
  q.addAfter('x', 60);
  assert.equal(await q.get(), 'x');
  clearTimeout(keepAlive);
  assert.ok(Date.now() - started >= 55);
  const waiting = q.get();
  q.shutDown();
  assert.equal(await waiting, undefined);
  q.add('y');
  assert.equal(await q.get(), undefined);
});

test('addAfter keeps the soonest of the times asked for a key, not the first', async () => {
  const q = new WorkQueue();
  const keepAlive = setTimeout(() => {}, 10_000);
  const started = Date.now();
  q.addAfter('k', 5_000); // e.g. a periodic resync
  q.addAfter('k', 30); // then a failure's short requeue: it must not wait for the resync
  q.addAfter('k', 2_000); // a later, longer one changes nothing
  assert.equal(await q.get(), 'k');
  assert.ok(Date.now() - started < 1_000, `delivered after ${Date.now() - started} ms`);
  q.done('k');
  clearTimeout(keepAlive);
  q.shutDown();
});
