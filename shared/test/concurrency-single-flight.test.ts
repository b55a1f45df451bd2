import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SingleFlight } from '../src/concurrency/single-flight.js';

test('concurrent calls for one key share one execution; later calls run again', async () => {
  const flight = new SingleFlight<number>();
  let runs = 0;
  const slow = () => new Promise<number>((resolve) => setTimeout(() => resolve(++runs), 10));
  const results = await Promise.all([flight.run('a', slow), flight.run('a', slow), flight.run('b', slow)]);
  assert.deepEqual(results.sort(), [1, 1, 2]);
  assert.equal(await flight.run('a', slow), 3);
});

test('a failure reaches every waiter and is not cached', async () => {
  const flight = new SingleFlight<number>();
  const failing = () => Promise.reject(new Error('down'));
  const outcomes = await Promise.allSettled([flight.run('a', failing), flight.run('a', failing)]);
  assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected']);
  assert.equal(await flight.run('a', async () => 7), 7);
});
