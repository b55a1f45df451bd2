import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { QueryGate } from '../src/rpc/query-gate.js';
import { RpcError } from '../src/rpc/rpc-error.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
const tick = () => new Promise((r) => setImmediate(r));
const isUnavailable = (pattern: RegExp) => (error: unknown) =>
  error instanceof RpcError && error.code === 'unavailable' && pattern.test(error.message);

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
  await tick();
  assert.equal(running, 2);
  assert.equal(gate.queued, 3);
  for (const g of gates) {
    g.resolve();
    await tick();
  }
  assert.deepEqual(await Promise.all(results), [0, 1, 2, 3, 4]);
  assert.equal(peak, 2);
  assert.equal(gate.queued, 0);
});

test('a failed query rejects every caller sharing it and does not leak a slot', async () => {
  const gate = new QueryGate(1);
  const failing = () => Promise.reject(new Error('boom'));
  await assert.rejects(Promise.all([gate.run('k', failing), gate.run('k', failing)]), /boom/);
  assert.equal(await gate.run('k', async () => 'ok'), 'ok');
});

test('when every slot runs and the waiting line is full, a new query is shed with unavailable at once', async () => {
  const gate = new QueryGate(1, 2);
  const hold = deferred<string>();
  let runs = 0;
  const counted = (value: string) => async () => {
    runs++;
    return value;
  };
  const running = gate.run('a', () => {
    runs++;
    return hold.promise;
  });
  const waiting = [gate.run('b', counted('b')), gate.run('c', counted('c'))];
  assert.equal(gate.queued, 2);
  await assert.rejects(gate.run('d', counted('d')), isUnavailable(/busy/));
  assert.equal(runs, 1, 'the shed query never ran');
  // An identical request joins the one in flight instead of being shed.
  const joined = gate.run('b', counted('b-again'));
  hold.resolve('a');
  assert.deepEqual(await Promise.all([running, ...waiting, joined]), ['a', 'b', 'c', 'b']);
  assert.equal(runs, 3);
  // The line drained: a new query is taken again.
  assert.equal(await gate.run('d', counted('d')), 'd');
});

test('a query whose deadline has passed is dropped without running, also after waiting its turn', async () => {
  const gate = new QueryGate(1);
  let runs = 0;
  const query = async () => ++runs;
  await assert.rejects(gate.run('late', query, Date.now() - 1), isUnavailable(/deadline/));
  assert.equal(runs, 0, 'an expired request does not touch the database');

  mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  try {
    const hold = deferred<number>();
    const first = gate.run('slow', () => hold.promise);
    // Its deadline is still ahead while it waits, but behind it when its turn comes.
    const queued = gate.run('queued', query, Date.now() + 30);
    const waitedPast = assert.rejects(queued, isUnavailable(/deadline/));
    mock.timers.tick(31);
    hold.resolve(0);
    await first;
    await waitedPast;
  } finally {
    mock.timers.reset();
  }
  assert.equal(runs, 0, 'the query that waited past its deadline did not run');
  assert.equal(await gate.run('fresh', query, Date.now() + 60_000), 1, 'a query within its deadline runs');
});

test(
  'the concurrency bound holds when a new query arrives between a slot being freed and the waiter taking it',
  async () => {
    const gate = new QueryGate(1);
    let running = 0;
    let peak = 0;
    const counted = (wait: Promise<void>) => async () => {
      running++;
      peak = Math.max(peak, running);
      await wait;
      await null;
      running--;
    };
    const hold = deferred<void>();
    const first = gate.run('a', counted(hold.promise));
    const waiter = gate.run('b', counted(Promise.resolve()));
    hold.resolve();
    // Two microtask turns later: after the first query's finally, before the waiter resumes.
    let late: Promise<void> | undefined;
    queueMicrotask(() => queueMicrotask(() => queueMicrotask(() => (late = gate.run('c', counted(Promise.resolve()))))));
    await Promise.all([first, waiter]);
    await late;
    assert.equal(peak, 1);
  },
);
