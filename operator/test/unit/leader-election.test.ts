import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaderElector } from '../../src/controller/leader-election.js';
import type { KubeObject } from '../../src/kube/kube-object.js';
import { KubeApiError } from '../../src/kube/kube-client.js';

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

/**
 * One Lease with the API server's optimistic concurrency: a replace must carry the current
 * resourceVersion or it is refused with 409, and replaces are applied in the order they were
 * sent. `gate` holds the next replace (and so every later one) until it is opened.
 */
function versionedLeaseStore() {
  let lease: KubeObject | undefined;
  let version = 0;
  let applied: Promise<unknown> = Promise.resolve();
  const store = {
    gate: undefined as Promise<void> | undefined,
    replaces: 0,
    get lease() {
      return lease;
    },
    async get<T extends KubeObject>(): Promise<T | undefined> {
      return structuredClone(lease) as T | undefined;
    },
    async create<T extends KubeObject>(obj: T): Promise<T> {
      lease = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++version) } };
      return obj;
    },
    replace<T extends KubeObject>(obj: T): Promise<T> {
      store.replaces++;
      const gate = store.gate;
      store.gate = undefined;
      const result = applied.then(async () => {
        if (gate) await gate;
        if (obj.metadata?.resourceVersion !== lease?.metadata?.resourceVersion) throw new KubeApiError(409, 'Conflict', 'the object has been modified');
        lease = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++version) } };
        return obj;
      });
      applied = result.catch(() => undefined);
      return result;
    },
  };
  return store;
}

test('a leader stopped while a renewal is under way still releases the lease (the renewal lands first)', { timeout: 10_000 }, async () => {
  const store = versionedLeaseStore();
  const elector = new LeaderElector(store, { namespace: 'default', name: 'lease', identity: 'a', leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 20 });
  const keepAlive = setInterval(() => {}, 1_000);
  try {
    const led = new Promise<void>((resolve) => elector.onStartedLeading(resolve));
    elector.start();
    await led;
    // Hold the next renewal at the server; stop while it is in flight, then let it land. A release
    // that read the record before the renewal landed would be refused as a conflict.
    let open!: () => void;
    store.gate = new Promise<void>((resolve) => (open = resolve));
    const replacesBefore = store.replaces;
    while (store.replaces === replacesBefore) await new Promise((resolve) => setImmediate(resolve));
    const stopping = elector.stop();
    open();
    await stopping;
    assert.equal((store.lease?.spec as { holderIdentity?: string }).holderIdentity, '', 'the lease was released');
    assert.equal(elector.isLeader, false);
  } finally {
    clearInterval(keepAlive);
  }
});
