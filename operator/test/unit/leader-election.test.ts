import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaderElector } from '../../src/controller/leader-election.js';
import type { KubeObject } from '../../src/kube/kube-object.js';

/** One Lease in memory; `hang` makes every later request wait forever, as a stuck API call would. */
function leaseStore() {
  let lease: KubeObject | undefined;
  const store = {
    hang: false,
    async get<T extends KubeObject>(): Promise<T | undefined> {
      if (store.hang) return new Promise(() => {});
      return lease as T | undefined;
    },
    async create<T extends KubeObject>(obj: T): Promise<T> {
      lease = structuredClone(obj);
      return obj;
    },
    async replace<T extends KubeObject>(obj: T): Promise<T> {
      if (store.hang) return new Promise(() => {});
      lease = structuredClone(obj);
      return obj;
    },
  };
  return store;
}

test('a leader whose renewal hangs steps down at its renew deadline, not at the client timeout', { timeout: 10_000 }, async () => {
  const store = leaseStore();
  const elector = new LeaderElector(store, { namespace: 'default', name: 'lease', identity: 'a', leaseDurationMs: 3_000, renewDeadlineMs: 400, retryPeriodMs: 50 });
  const keepAlive = setInterval(() => {}, 1_000); // the elector's timers are unref'd
  try {
    const led = new Promise<void>((resolve) => elector.onStartedLeading(resolve));
    const lost = new Promise<number>((resolve) => elector.onStoppedLeading(() => resolve(Date.now())));
    elector.start();
    await led;
    const hungAt = Date.now();
    store.hang = true;
    const stoppedAt = await lost;
    assert.equal(elector.isLeader, false);
    // Renewals hang from now on, so the last one succeeded at most a retry period before: the
    // leader must give up within its 400 ms deadline of that (plus timer slack), never wait longer.
    assert.ok(stoppedAt - hungAt < 1_000, `stepped down ${stoppedAt - hungAt} ms after renewals began to hang`);
  } finally {
    clearInterval(keepAlive);
    store.hang = false; // so that stop() can release the lease if the elector still leads
    await elector.stop();
  }
});
