/**
 * Tracing on the test cluster, as a user turns it on: `helm upgrade --set tracing.jaeger.enabled=true`
 * (the chart's Jaeger, from the locally built image), the ChatCluster's `spec.tracing.otlpEndpoint`
 * pointed at it (the operator rolls gateways and message-services), then one message between users
 * on two different gateway pods, and its trace read back through the Jaeger Service (the API
 * server's service proxy: no port is opened on the host).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@chorus/local/servers/binaries';
import { clusterImages } from './cluster-images.js';
import type { KubeCluster } from './kube-cluster.js';
import { connectUser } from './connect-user.js';
import { readMessageTrace, type MessageTrace } from '../support/jaeger-trace.js';
import { waitUntil } from '../support/wait-until.js';

/** Why the tracing test cannot run on this machine (no Jaeger image built), or false. */
export async function clusterTracingUnavailable(): Promise<string | false> {
  const { jaegerTar } = await clusterImages();
  return existsSync(jaegerTar) ? false : `${jaegerTar} is missing; run scripts/bootstrap.sh jaeger cluster`;
}

export interface ClusterTrace {
  trace: MessageTrace;
  sendingGateway: string;
  receivingGateways: string[];
}

/** `release` is the chart's release in `ns`, `name` the ChatCluster there. */
export async function traceOneMessage(cluster: KubeCluster, ns: string, release: string, name: string): Promise<ClusterTrace> {
  const jaeger = `${release}-jaeger`;
  const [repository, tag] = cluster.images.jaeger.split(/:(?=[^:]+$)/);
  await cluster.helm([
    'upgrade', release, join(repoRoot, 'charts', 'chorus'), '-n', ns, '--reuse-values',
    '--set', `tracing.jaeger.enabled=true,tracing.jaeger.image=${repository}:${tag},tracing.jaeger.pullPolicy=Never`,
    '--wait', '--timeout', '180s',
  ]);
  const endpoint = `http://${jaeger}.${ns}.svc:4318`;
  await cluster.kc(['-n', ns, 'patch', 'chatcluster', name, '--type', 'merge', '-p', JSON.stringify({ spec: { tracing: { otlpEndpoint: endpoint } } })]);
  // The operator renders the endpoint into the pods' env; then the Deployments roll.
  for (const component of ['gateway', 'message-service']) {
    await waitUntil(async () => {
      const deployment = JSON.parse(await cluster.kc(['-n', ns, 'get', 'deployment', `${name}-${component}`, '-o', 'json']));
      const env: { name: string }[] = deployment.spec.template.spec.containers[0].env ?? [];
      return env.some((e) => e.name === 'OTEL_SERVICE_NAME');
    }, 60_000, `the operator sets tracing on ${name}-${component}`);
    await cluster.kc(['-n', ns, 'rollout', 'status', `deployment/${name}-${component}`, '--timeout=180s']);
  }

  // Two users on two different gateway pods (their pod IPs are on the bridge, reachable from the host).
  const pods = JSON.parse(
    await cluster.kc(['-n', ns, 'get', 'pods', '-l', `app.kubernetes.io/instance=${name},app.kubernetes.io/component=gateway`, '-o', 'json']),
  ).items.filter((p: any) => !p.metadata.deletionTimestamp && p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
  if (pods.length < 2) throw new Error(`want two ready gateway pods, got ${pods.length}`);
  const [a, b] = pods.slice(0, 2).map((p: any) => {
    const port = p.spec.containers[0].ports.find((x: any) => x.name === 'http').containerPort as number;
    return { name: p.metadata.name as string, url: `http://${p.status.podIP}:${port}` };
  });
  const alice = await connectUser(a.url, 'trace-alice');
  const bob = await connectUser(b.url, 'trace-bob');
  try {
    const created = await alice.request({ type: 'create', room: 'traced' });
    if (created.type !== 'joined') throw new Error(`create: ${JSON.stringify(created)}`);
    const joined = await bob.request({ type: 'join', room: 'traced' });
    if (joined.type !== 'joined') throw new Error(`join: ${JSON.stringify(joined)}`);
    const ack = await alice.request({ type: 'send', room: 'traced', clientMsgId: 'trace-me', text: 'follow me through the cluster' });
    if (ack.type !== 'ack') throw new Error(`send: ${JSON.stringify(ack)}`);
    await bob.waitFor((f) => f.type === 'message' && f.id === ack.id);
    const get = async (path: string) => JSON.parse(await cluster.kc(['get', '--raw', `/api/v1/namespaces/${ns}/services/${jaeger}:ui/proxy${path}`]));
    const trace = await readMessageTrace(get, ack.id, [a.name, b.name], 90_000);
    return { trace, sendingGateway: a.name, receivingGateways: [a.name, b.name] };
  } finally {
    await Promise.all([alice.close(), bob.close()]);
  }
}
