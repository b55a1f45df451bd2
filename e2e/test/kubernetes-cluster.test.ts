// Chorus on a real single-node Kubernetes cluster (scripts/cluster/, e2e/test/cluster/), as a user
// meets it: `helm install` the chart, `kubectl apply` a ChatCluster, every child Ready, `kubectl get`
// shows the printer columns, two users chat through the gateway Service, and `kubectl exec` runs
// the load tester in its pod. Needs root and `scripts/bootstrap.sh cluster`; otherwise every test
// here is reported as skipped with the reason. One cluster for the whole file, always torn down.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { repoRoot } from '@chorus/local/servers/binaries';
import { runCommand } from '@chorus/local/servers/run-command';
import { clusterUnavailable, startKubeCluster, type KubeCluster } from './cluster/kube-cluster.js';
import { connectUser } from './cluster/connect-user.js';
import { chatCluster, ferretdb, manifest } from './cluster/platform-manifests.js';
import { LoadDriver } from '@chorus/chaos/load/load-driver';
import { v2Protocol } from '@chorus/chaos/protocol/v2-protocol';
import type { ChatClient } from './support/chat-client.js';
import { waitUntil } from './support/wait-until.js';
import { clusterTracingUnavailable, traceOneMessage } from './cluster/cluster-tracing.js';
import { assertMessageTrace, describeTrace } from './support/jaeger-trace.js';

const unavailable = await clusterUnavailable();
const name = 'chat';

// Each test carries the reason, so the summary counts them as skipped (not a silently empty suite).
const skip = unavailable ?? false;
const tracingSkip = skip || (await clusterTracingUnavailable());

describe('Chorus on a real single-node Kubernetes cluster', { timeout: 900_000 }, () => {
  let cluster: KubeCluster;
  let ns: string;
  let gatewayUrl: string;
  const users: ChatClient[] = [];
  const get = async (kind: string, object: string) => JSON.parse(await cluster.kc(['-n', ns, 'get', kind, object, '-o', 'json']));

  before(async () => {
    if (unavailable) return;
    cluster = await startKubeCluster();
    ns = await cluster.namespace('chorus');
  });

  after(async () => {
    await Promise.all(users.map((u) => u.close()));
    await cluster?.stop();
  });

  test('helm install: the operator runs 2/2 Ready from the locally built image', { skip }, async () => {
    const [repository, tag] = cluster.images.chorus.split(/:(?=[^:]+$)/);
    await cluster.helm([
      'install', 'chorus', join(repoRoot, 'charts', 'chorus'), '-n', ns,
      '--set', `image.repository=${repository},image.tag=${tag},image.pullPolicy=Never`,
      '--wait', '--timeout', '180s',
    ]);
    const operator = await get('deployment', 'chorus-operator');
    assert.equal(operator.status.readyReplicas, 2);
  });

  test('kubectl apply a ChatCluster (external MongoDB = FerretDB): every child becomes Ready', { skip }, async () => {
    await cluster.kc(['-n', ns, 'apply', '-f', '-'], manifest(ferretdb(cluster.images, `${name}-mongodb`)));
    const spec = chatCluster({ name, images: cluster.images, natsReplicas: 3, gatewayReplicas: 2, loadtestArgs: ['--users', '10', '--duration', '5s'] });
    await cluster.kc(['-n', ns, 'apply', '-f', '-'], manifest([spec]));
    // kubectl wait is bounded by its own timeout; the first start pulls nothing but starts ~12 pods.
    await cluster.kc(['-n', ns, 'wait', '--for=condition=Ready', `chatcluster/${name}`, '--timeout=300s']);
    for (const workload of ['statefulset/nats', 'statefulset/redis', 'deployment/gateway', 'deployment/message-service', 'deployment/loadtest']) {
      const [kind, component] = workload.split('/');
      await cluster.kc(['-n', ns, 'rollout', 'status', `${kind}/${name}-${component}`, '--timeout=180s']);
    }

    const nats = await get('statefulset', `${name}-nats`);
    assert.equal(nats.status.readyReplicas, 3, 'NATS: 3 of 3 ready');
    assert.equal((await get('statefulset', `${name}-redis`)).status.readyReplicas, 1, 'Redis ready');
    assert.equal((await get('deployment', `${name}-gateway`)).status.readyReplicas, 2, 'gateways ready');
    assert.ok((await get('deployment', `${name}-message-service`)).status.readyReplicas >= 1, 'a message-service ready');
    const claims = JSON.parse(await cluster.kc(['-n', ns, 'get', 'pvc', '-o', 'json'])).items;
    assert.deepEqual(claims.map((c: any) => c.status.phase), ['Bound', 'Bound', 'Bound'], 'JetStream on local PersistentVolumes');

    // The stream is replicated like the NATS cluster (R3), as NATS itself reports it.
    await waitUntil(async () => {
      const jsz = await cluster.kubectl(['-n', ns, 'exec', `${name}-nats-0`, '--', 'wget', '-qO-', 'http://127.0.0.1:8222/jsz?streams=true&config=true']);
      if (jsz.code !== 0) return false;
      const streams = JSON.parse(jsz.stdout).account_details?.flatMap((a: any) => a.stream_detail ?? []) ?? [];
      return streams.some((s: any) => s.name === 'CHORUS_MESSAGES' && s.config?.num_replicas === 3 && (s.cluster?.replicas?.length ?? 0) === 2);
    }, 60_000, 'stream CHORUS_MESSAGES with 3 replicas');
  });

  test('the load-test Job waits for a ready gateway, completes, and its summary is in its log', { skip }, async (t) => {
    const selector = `app.kubernetes.io/instance=${name},app.kubernetes.io/component=loadtest`;
    const jobs = JSON.parse(await cluster.kc(['-n', ns, 'get', 'jobs', '-l', selector, '-o', 'json'])).items;
    assert.equal(jobs.length, 1);
    const job = jobs[0].metadata.name as string;
    let status: { succeeded?: number; failed?: number } = {};
    await waitUntil(async () => {
      status = (await get('job', job)).status ?? {};
      return (status.succeeded ?? 0) + (status.failed ?? 0) > 0;
    }, 180_000, `Job ${job} finished`);
    const log = await cluster.kc(['-n', ns, 'logs', `job/${job}`]);
    // The SLO verdict is the exit code: succeeded means PASS.
    assert.equal(status.succeeded, 1, `Job ${job} failed:\n${log}`);
    assert.match(log, /deliveries\s+\d+\/\d+ \(loss 0,/);
    assert.match(log, /SLO: PASS/);
    t.diagnostic(log.trim().split('\n').slice(-4).join('\n'));
  });

  test('kubectl get chatcluster shows the printer columns', { skip }, async (t) => {
    const table = await cluster.kc(['-n', ns, 'get', 'chatcluster', name]);
    t.diagnostic(`kubectl get chatcluster\n${table}`);
    const [header, row] = table.trim().split('\n').map((line) => line.trim().split(/\s+/));
    assert.deepEqual(header, ['NAME', 'READY', 'GATEWAYS', 'WORKERS', 'QUEUE', 'BATCH', 'FLUSH-MS', 'AGE']);
    assert.equal(row![0], name);
    assert.equal(row![1], 'True');
    assert.equal(row![2], '2/2');
    assert.match(row![3]!, /^\d+\/\d+$/);
    // What a user reads in `kubectl describe`: the conditions, and the operator's Events.
    const described = await cluster.kc(['-n', ns, 'describe', 'chatcluster', name]);
    assert.match(described, /Conditions:[\s\S]*Type:\s+Ready/);
    assert.match(described, /Events:[\s\S]*Normal\s+Created\s[\s\S]*Normal\s+Ready\s/);
  });

  test('two WebSocket users chat through the gateway Service (NodePort on the bridge address)', { skip }, async () => {
    const service = await get('service', `${name}-gateway`);
    const nodePort = service.spec.ports[0].nodePort as number;
    gatewayUrl = `http://10.88.0.1:${nodePort}`;
    const alice = await connectUser(gatewayUrl, 'alice');
    users.push(alice);
    const bob = await connectUser(gatewayUrl, 'bob');
    users.push(bob);
    assert.equal((await alice.request({ type: 'create', room: 'k8s' })).type, 'joined');
    assert.equal((await bob.request({ type: 'join', room: 'k8s' })).type, 'joined');
    const total = 20;
    const acks = await Promise.all(
      Array.from({ length: total }, (_, i) => alice.request({ type: 'send', room: 'k8s', clientMsgId: `a${i}`, text: `hello ${i}` })),
    );
    assert.deepEqual(acks.filter((a) => a.type !== 'ack'), [], 'every send is acked');
    await bob.waitForMessages('k8s', total);
    const received = bob.messages('k8s');
    assert.equal(received.length, total, 'exactly once');
    assert.deepEqual(new Set(received.map((m) => m.text)), new Set(acks.map((_, i) => `hello ${i}`)));
    const reply = await bob.request({ type: 'send', room: 'k8s', clientMsgId: 'b0', text: 'hi alice' });
    assert.equal(reply.type, 'ack');
    await alice.waitFor((f) => f.type === 'message' && f.sender === 'bob' && f.text === 'hi alice');
  });

  test('kubectl exec into the load-tester pod runs a new-year spike and its summary comes back', { skip }, async (t) => {
    const run = await cluster.kubectl([
      '-n', ns, 'exec', `deployment/${name}-loadtest`, '--',
      'loadtest', 'new-year', '--users', '100', '--duration', '6s', '--burst-window', '1s',
    ]);
    assert.equal(run.code, 0, `loadtest exit ${run.code}:\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /deliveries\s+\d+\/\d+ \(loss 0,/);
    assert.match(run.stdout, /SLO: PASS/);
    t.diagnostic(run.stdout.trim().split('\n').slice(-12).join('\n'));
  });

  test('deleting a gateway pod and then a message-service pod under load loses nothing (exact delivery ledger)', { skip }, async (t) => {
    // 40 users in rooms of 4, all through the Service: kube-proxy spreads them over both gateways.
    const driver = await LoadDriver.start({
      gatewayUrls: [gatewayUrl],
      protocol: v2Protocol,
      shape: { users: 40, roomSize: 4, sendsPerSecond: 100, maxSendSeconds: 60 },
      prefix: 'k8s-gw',
    });
    try {
      driver.startSending();
      const delivered = () => driver.snapshot().ledger.delivered;
      // 2,000 (member, message) deliveries = 500 messages, about 5 s of load before the fault.
      await waitUntil(() => delivered() >= 2000, 60_000, 'load flowing through both gateways');
      const selector = Object.entries((await get('deployment', `${name}-gateway`)).spec.selector.matchLabels)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      const pods = JSON.parse(await cluster.kc(['-n', ns, 'get', 'pods', '-l', selector, '-o', 'json'])).items;
      assert.equal(pods.length, 2);
      const victim = pods[0].metadata.name as string;
      // A normal delete: SIGTERM, the gateway's drain, then the Deployment's replacement pod.
      await cluster.kc(['-n', ns, 'delete', 'pod', victim, '--wait=false']);
      await cluster.kc(['-n', ns, 'wait', '--for=delete', `pod/${victim}`, '--timeout=90s']);
      await cluster.kc(['-n', ns, 'rollout', 'status', `deployment/${name}-gateway`, '--timeout=120s']);
      // Load keeps flowing after the replacement (through whichever gateways the users reconnected to).
      const after = delivered();
      await waitUntil(() => delivered() >= after + 2000, 60_000, 'load flowing after the replacement');
      // The writer: delivery comes from the stream, so users keep chatting while it is replaced.
      const writers = JSON.parse(
        await cluster.kc(['-n', ns, 'get', 'pods', '-l', `app.kubernetes.io/instance=${name},app.kubernetes.io/component=message-service`, '-o', 'json']),
      ).items;
      const writer = writers[0].metadata.name as string;
      await cluster.kc(['-n', ns, 'delete', 'pod', writer, '--wait=false']);
      await cluster.kc(['-n', ns, 'wait', '--for=delete', `pod/${writer}`, '--timeout=90s']);
      await cluster.kc(['-n', ns, 'rollout', 'status', `deployment/${name}-message-service`, '--timeout=120s']);
      const afterWriter = delivered();
      await waitUntil(() => delivered() >= afterWriter + 2000, 60_000, 'load flowing after the message-service replacement');
      const drained = await driver.drain(60_000);
      const report = driver.ledger.report();
      const { disconnects, resumes, resentAfterReconnect } = driver.stats;
      const summary = JSON.stringify({ drained, disconnects, resumes, resentAfterReconnect, ...report, samples: report.samples.slice(0, 5) });
      t.diagnostic(`deleted ${victim} and ${writer}: ${summary}`);
      assert.ok(report.acked >= 1000, summary);
      assert.ok(disconnects > 0, `the deleted gateway had users, who reconnected: ${summary}`);
      assert.equal(report.lost, 0, `lost deliveries: ${summary}`);
      assert.equal(report.duplicated, 0, summary);
      assert.equal(report.reordered, 0, summary);
      assert.equal(report.positionConflicts, 0, summary);
      assert.equal(report.unexpected, 0, summary);
      assert.equal(driver.stats.invalidFrames, 0, summary);
      assert.ok(drained, `every send answered and every acked message delivered: ${summary}`);
    } finally {
      driver.close();
    }
  });

  test('tracing on: one message between two gateway pods is one trace, read back through the Jaeger Service', { skip: tracingSkip }, async (t) => {
    const { trace, sendingGateway, receivingGateways } = await traceOneMessage(cluster, ns, 'chorus', name);
    t.diagnostic(`trace ${trace.traceId}:\n${describeTrace(trace.spans)}\nlinked from ${trace.batch.name} [${trace.batch.service}] (its own trace)`);
    assertMessageTrace(trace, sendingGateway, receivingGateways);
  });

  test('no pod packet was forwarded off the bridge (the isolation rule dropped nothing)', { skip }, async (t) => {
    const { code, stdout, stderr } = await runCommand('iptables', ['-w', '-L', 'CHORUS-ISOLATE', '-v', '-x', '-n']);
    assert.equal(code, 0, stderr);
    // Rule 1: to a Service IP not programmed yet (the cluster's own range); rule 2: anywhere else.
    const drops = stdout.split('\n').filter((line) => /\bDROP\b/.test(line)).map((line) => line.trim().split(/\s+/));
    assert.equal(drops.length, 2, stdout);
    assert.equal(drops[0]![8], '10.96.0.0/16', stdout);
    t.diagnostic(`dropped on their way to a Service IP before kube-proxy programmed it: ${drops[0]![0]} packets`);
    assert.equal(Number(drops[1]![0]), 0, `packets from pods to other addresses:\n${stdout}`);
  });
});
