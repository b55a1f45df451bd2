import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QueryGate } from '../src/query-gate.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

test('identical queries in flight share one execution', async () => {
  const gate = new QueryGate(4);
  let runs = 0;
  const d = deferred<number>();
  const query = () => {
    runs++;
    return d.promise;
  };
  const a = gate.run('room/after/5', query);
  const b = gate.run('room/after/5', query);
  d.resolve(42);
  assert.deepEqual(await Promise.all([a, b]), [42, 42]);
  assert.equal(runs, 1);
  // Once settled, the next identical request runs again (fresh data).
  await gate.run('room/after/5', async () => runs++);
  assert.equal(runs, 2);
});

test('at most maxConcurrent distinct queries run at once; the rest wait their turn', async () => {
  const gate = new QueryGate(2);
  let running = 0;
  let peak = 0;
  const gates = Array.from({ length: 5 }, () => deferred<void>());
  const results = gates.map((g, i) =>
    gate.run(`q${i}`, async () => {
      running++;
      peak = Math.max(peak, running);
      await g.promise;
      running--;
      return i;
    }),
  );
  await new Promise((r) => setImmediate(r));
  assert.equal(running, 2);
  for (const g of gates) {
    g.resolve();
    await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual(await Promise.all(results), [0, 1, 2, 3, 4]);
  assert.equal(peak, 2);
});

test('a failed query rejects every caller sharing it and does not leak a slot', async () => {
  const gate = new QueryGate(1);
  const failing = () => Promise.reject(new Error('boom'));
  await assert.rejects(Promise.all([gate.run('k', failing), gate.run('k', failing)]), /boom/);
  assert.equal(await gate.run('k', async () => 'ok'), 'ok');
});
