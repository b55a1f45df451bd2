/**
 * The batching settings each running message-service replica has in force, read from its own
 * /metrics (port 9464 on the pod's address, which the host reaches over the bridge): what the
 * workers applied from the settings bucket, not what the operator says it wrote.
 */
import type { KubeCluster } from './kube-cluster.js';

export interface WorkerSettings {
  pod: string;
  batchSize: number;
  flushIntervalMs: number;
}

function gauge(text: string, name: string, pod: string): number {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!match) throw new Error(`${pod} /metrics has no ${name}`);
  return Number(match[1]);
}

/**
 * Settings of the Ready message-service pods of ChatCluster `name` that answer within 5 s (a pod
 * that does not is left out: callers compare the count), except those named in `skip`.
 */
export async function workerSettings(cluster: KubeCluster, namespace: string, name: string, skip: string[] = []): Promise<WorkerSettings[]> {
  const selector = `app.kubernetes.io/instance=${name},app.kubernetes.io/component=message-service`;
  const pods = JSON.parse(await cluster.kc(['-n', namespace, 'get', 'pods', '-l', selector, '-o', 'json'])).items as any[];
  const ready = pods.filter(
    (p) => !p.metadata.deletionTimestamp && !skip.includes(p.metadata.name) && p.status?.podIP && p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'),
  );
  const read = async (p: any): Promise<WorkerSettings | undefined> => {
    const pod = p.metadata.name as string;
    try {
      const response = await fetch(`http://${p.status.podIP}:9464/metrics`, { signal: AbortSignal.timeout(5_000) });
      if (!response.ok) return undefined;
      const text = await response.text();
      return { pod, batchSize: gauge(text, 'chorus_message_service_batch_size', pod), flushIntervalMs: gauge(text, 'chorus_message_service_flush_interval_ms', pod) };
    } catch {
      return undefined;
    }
  };
  return (await Promise.all(ready.map(read))).filter((w): w is WorkerSettings => w !== undefined);
}
