import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { LoadDriver } from '@chorus/chaos/load/load-driver';
import { v2Protocol } from '@chorus/chaos/protocol/v2-protocol';
import { evictPod, runningPods, waitForReplacement } from './evict-pods.js';
import type { KubeCluster } from './kube-cluster.js';
import { waitUntil } from '../support/wait-until.js';
import { assertExactLedger } from './exact-ledger.js';

/**
 * A node drain in slow motion on the single-node cluster: under steady chat load with an exact
 * ledger, every running pod of `selector` is evicted in turn through the Eviction API (429s from
 * a PodDisruptionBudget are retried), and its replacement must be Ready before the next. Then
 * nothing acked may be lost, duplicated or reordered.
 */
export async function evictEveryPodUnderLoad(t: TestContext, cluster: KubeCluster, ns: string, gatewayUrl: string, selector: string): Promise<void> {
  const driver = await LoadDriver.start({
    gatewayUrls: [gatewayUrl],
    protocol: v2Protocol,
    shape: { users: 40, roomSize: 4, sendsPerSecond: 50, maxSendSeconds: 900 },
    prefix: 'k8s-ev',
  });
  try {
    driver.startSending();
    const delivered = () => driver.snapshot().ledger.delivered;
    await waitUntil(() => delivered() >= 1000, 60_000, 'load flowing before the evictions');
    const before = await runningPods(cluster, ns, selector);
    assert.ok(before.length >= 8, `the platform's pods: ${before.map((p) => p.name).join(' ')}`);
    const steps: string[] = [];
    for (const victim of before) {
      const start = Date.now();
      const eviction = await evictPod(cluster, ns, victim.name);
      await waitForReplacement(cluster, ns, selector, victim, before);
      steps.push(`${victim.name} (${victim.owner}): ${eviction.refusals} x 429, evicted after ${(eviction.ms / 1000).toFixed(1)} s, replacement ready after ${((Date.now() - start) / 1000).toFixed(0)} s`);
      t.diagnostic(`evicted ${steps.at(-1)}`);
    }
    const afterAll = delivered();
    await waitUntil(() => delivered() >= afterAll + 1000, 120_000, 'load flowing after every eviction');
    const { summary, acked, drainMoves } = await assertExactLedger(driver, 90_000);
    t.diagnostic(`evicted ${before.length} pods: ${summary}`);
    assert.ok(acked >= 1000, summary);
    assert.ok(drainMoves > 0, `clients of an evicted gateway moved by its reconnect frame: ${summary}`);
  } finally {
    driver.close();
  }
}
