import { test, beforeEach, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher, type FlushReason } from '../../src/batching/batcher.js';

let flushed: { items: number[]; reason: FlushReason }[];
const collect = (items: number[], reason: FlushReason) => flushed.push({ items, reason });

beforeEach(() => {
  flushed = [];
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
});
afterEach(() => mock.timers.reset());

test('flushes as soon as batchSize items are collected, without waiting for the interval', () => {
  const batcher = new Batcher<number>({ batchSize: 3, flushIntervalMs: 50 }, collect);
  for (let i = 1; i <= 7; i++) batcher.add(i);
  assert.deepEqual(flushed, [
    { items: [1, 2, 3], reason: 'size' },
    { items: [4, 5, 6], reason: 'size' },
  ]);
  assert.equal(batcher.pending, 1);
});

test('flushes a partial batch flushIntervalMs after its first item', () => {
  const batcher = new Batcher<number>({ batchSize: 100, flushIntervalMs: 50 }, collect);
  batcher.add(1);
  mock.timers.tick(30);
  batcher.add(2);
  mock.timers.tick(19);
  assert.equal(flushed.length, 0, 'not yet: the first item waited 49 ms');
  mock.timers.tick(1);
  assert.deepEqual(flushed, [{ items: [1, 2], reason: 'time' }]);
  // The next batch gets its own deadline, counted from its own first item.
  mock.timers.tick(500);
  batcher.add(3);
  mock.timers.tick(49);
  assert.equal(flushed.length, 1);
  mock.timers.tick(1);
  assert.deepEqual(flushed[1], { items: [3], reason: 'time' });
});

test('a size flush cancels the pending time flush', () => {
  const batcher = new Batcher<number>({ batchSize: 2, flushIntervalMs: 50 }, collect);
  batcher.add(1);
  batcher.add(2);
  mock.timers.tick(100);
  assert.deepEqual(flushed, [{ items: [1, 2], reason: 'size' }]);
});

test('a smaller live batchSize applies to the batch being collected', () => {
  const batcher = new Batcher<number>({ batchSize: 10, flushIntervalMs: 1_000 }, collect);
  for (let i = 1; i <= 4; i++) batcher.add(i);
  batcher.setLimits({ batchSize: 3, flushIntervalMs: 1_000 });
  assert.deepEqual(flushed, [{ items: [1, 2, 3, 4], reason: 'size' }]);
  for (let i = 5; i <= 10; i++) batcher.add(i);
  assert.deepEqual(flushed.slice(1).map((f) => f.items), [[5, 6, 7], [8, 9, 10]]);
});

test('a larger live batchSize lets batches grow', () => {
  const batcher = new Batcher<number>({ batchSize: 2, flushIntervalMs: 50 }, collect);
  batcher.setLimits({ batchSize: 5, flushIntervalMs: 50 });
  for (let i = 1; i <= 5; i++) batcher.add(i);
  assert.deepEqual(flushed, [{ items: [1, 2, 3, 4, 5], reason: 'size' }]);
});

test('a live flush interval change moves the deadline of the batch in progress', () => {
  const batcher = new Batcher<number>({ batchSize: 100, flushIntervalMs: 1_000 }, collect);
  batcher.add(1);
  mock.timers.tick(30);
  batcher.setLimits({ batchSize: 100, flushIntervalMs: 50 });
  mock.timers.tick(19);
  assert.equal(flushed.length, 0);
  mock.timers.tick(1);
  assert.deepEqual(flushed, [{ items: [1], reason: 'time' }]);
  // Shortening below the time already waited flushes right away (on the next timer turn).
  batcher.add(2);
  mock.timers.tick(40);
  batcher.setLimits({ batchSize: 100, flushIntervalMs: 10 });
  mock.timers.tick(0);
  assert.deepEqual(flushed[1], { items: [2], reason: 'time' });
});

test('flush() hands over what is collected; an empty batcher flushes nothing', () => {
  const batcher = new Batcher<number>({ batchSize: 10, flushIntervalMs: 50 }, collect);
  batcher.flush();
  assert.equal(flushed.length, 0);
  batcher.add(1);
  batcher.flush();
  mock.timers.tick(100);
  assert.deepEqual(flushed, [{ items: [1], reason: 'manual' }]);
});
