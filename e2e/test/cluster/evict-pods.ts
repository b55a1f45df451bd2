/**
 * Evictions through the Eviction API (POST pods/<name>/eviction), as `kubectl drain` does: the API
 * server honours the PodDisruptionBudgets and answers 429 while an eviction would break one; we
 * retry until it is allowed or the deadline passes.
 */
import type { KubeCluster } from './kube-cluster.js';

export interface RunningPod {
  name: string;
  uid: string;
  /** The owner (ReplicaSet or StatefulSet) that brings a replacement. */
  owner: string;
}

export interface EvictionOutcome {
  pod: string;
  /** Answers 429 (a budget did not allow it yet) before the eviction was accepted. */
  refusals: number;
  ms: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Running pods matching the label selector, oldest first, with their owners. */
export async function runningPods(cluster: KubeCluster, ns: string, selector: string): Promise<RunningPod[]> {
  const pods = JSON.parse(await cluster.kc(['-n', ns, 'get', 'pods', '-l', selector, '--field-selector', 'status.phase=Running', '-o', 'json'])).items;
  return pods
    .filter((p: any) => !p.metadata.deletionTimestamp)
    .map((p: any) => ({ name: p.metadata.name, uid: p.metadata.uid, owner: `${p.metadata.ownerReferences?.[0]?.kind}/${p.metadata.ownerReferences?.[0]?.name}` }));
}

/** Evicts one pod, retrying while a PodDisruptionBudget refuses it (429); throws on any other error. */
export async function evictPod(cluster: KubeCluster, ns: string, pod: string, timeoutMs = 120_000): Promise<EvictionOutcome> {
  const start = Date.now();
  const body = JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: ns } });
  let refusals = 0;
  for (;;) {
    const result = await cluster.kubectl(['create', '--raw', `/api/v1/namespaces/${ns}/pods/${pod}/eviction`, '-f', '-'], body);
    if (result.code === 0) return { pod, refusals, ms: Date.now() - start };
    const output = `${result.stdout}\n${result.stderr}`;
    // kubectl prints the API's status: 429 TooManyRequests when a budget does not allow it yet.
    if (!/TooManyRequests|Too Many Requests|disruption budget/i.test(output)) throw new Error(`evicting ${pod} failed: ${output.trim()}`);
    refusals++;
    if (Date.now() - start > timeoutMs) throw new Error(`evicting ${pod}: still refused by its disruption budget after ${timeoutMs} ms (${refusals} tries): ${output.trim()}`);
    await sleep(Math.min(5_000, 500 * refusals));
  }
}

/**
 * Waits until the evicted pod is gone and its replacement is Ready: no pod of the selector is
 * terminating or not ready, a StatefulSet has all its pods again (the replacement has the same
 * name, so the uid tells them apart), and every other owner at least one (the autopilot may
 * change a Deployment's replicas meanwhile).
 */
export async function waitForReplacement(cluster: KubeCluster, ns: string, selector: string, evicted: RunningPod, before: RunningPod[], timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const expected = new Map<string, number>();
  for (const pod of before) expected.set(pod.owner, (expected.get(pod.owner) ?? 0) + 1);
  let last = '';
  for (;;) {
    const pods = JSON.parse(await cluster.kc(['-n', ns, 'get', 'pods', '-l', selector, '-o', 'json'])).items.filter((p: any) => p.status?.phase !== 'Succeeded');
    const isReady = (p: any) => !p.metadata.deletionTimestamp && p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
    const readyBy = new Map<string, number>();
    for (const p of pods.filter(isReady)) {
      const owner = `${p.metadata.ownerReferences?.[0]?.kind}/${p.metadata.ownerReferences?.[0]?.name}`;
      readyBy.set(owner, (readyBy.get(owner) ?? 0) + 1);
    }
    const ownersBack = [...expected].every(([owner, n]) => (readyBy.get(owner) ?? 0) >= (owner.startsWith('StatefulSet/') ? n : 1));
    if (!pods.some((p: any) => p.metadata.uid === evicted.uid) && pods.every(isReady) && ownersBack) return;
    last = pods.map((p: any) => `${p.metadata.name}:${p.status?.phase}${p.metadata.deletionTimestamp ? '(terminating)' : ''}${isReady(p) ? '' : '(not ready)'}`).join(' ');
    if (Date.now() > deadline) throw new Error(`after evicting ${evicted.name}: its replacement was not ready within ${timeoutMs} ms: ${last}`);
    await sleep(1_000);
  }
}
