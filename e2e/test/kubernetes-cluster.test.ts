// Chorus on a real single-node Kubernetes cluster (scripts/cluster/, e2e/test/cluster/), as a user
// meets it: `helm install` the chart, `kubectl apply` a ChatCluster, every child Ready, `kubectl get`
// shows the printer columns, two users chat through the gateway Service, and `kubectl exec` runs
// the load tester in its pod. Needs root and `scripts/bootstrap.sh cluster`; otherwise every test
// here is reported as skipped with the reason. One cluster for the whole file, always torn down.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { repoRoot } from '@chorus/local/servers/binaries';
import { runCommand } from '@chorus/local/servers/run-command';
import { clusterUnavailable, startKubeCluster, type KubeCluster } from './cluster/kube-cluster.js';
import { connectUser } from './cluster/connect-user.js';
import { chatCluster, ferretdb, ferretdbUri, manifest } from './cluster/platform-manifests.js';
import { LoadDriver } from '@chorus/chaos/load/load-driver';
import { v2Protocol } from '@chorus/chaos/protocol/v2-protocol';
import type { ChatClient } from './support/chat-client.js';
import { waitUntil } from './support/wait-until.js';
import { AutopilotTimeline } from './cluster/autopilot-timeline.js';
import { assertExactLedger } from './cluster/exact-ledger.js';
import { describeObject, HelmRelease } from './cluster/helm-release.js';
import { containerId, freezeContainer, tagImage, thawContainer } from './cluster/node-containerd.js';
import { workerSettings } from './cluster/worker-settings.js';
import { MongoClient, type Collection } from 'mongodb';
import { evictEveryPodUnderLoad } from './cluster/eviction-under-load.js';
import { clusterTracingUnavailable, traceOneMessage } from './cluster/cluster-tracing.js';
import { assertMessageTrace, describeTrace } from './support/jaeger-trace.js';
import { probeInternalsWithoutCredentials } from './cluster/internals-probe.js';

/**
 * Replaces the messages.room_pos index with a unique or a plain one, checked by listing it. Tried
 * again when it does not take: a message-service starting at that moment creates its own, and
 * FerretDB then answers the second create with an SQL "index already exists".
 */
async function setRoomPosIndex(messages: Collection, unique: boolean): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await messages.dropIndex('room_pos').catch((error: { code?: number }) => {
      if (error.code !== 27) throw error; // IndexNotFound: nothing to drop
    });
    const created = await messages.createIndex({ room: 1, pos: 1 }, { name: 'room_pos', ...(unique && { unique: true }) }).then(
      () => undefined,
      (error: Error) => error,
    );
    const index = (await messages.indexes()).find((i) => i.name === 'room_pos');
    if (!created && index && (index.unique === true) === unique) return;
    if (attempt >= 5) throw created ?? new Error(`room_pos is ${JSON.stringify(index)} after ${attempt} attempts`);
  }
}

const unavailable = await clusterUnavailable();
const name = 'chat';
// The test database's own password (FerretDB with authentication on); the platform reads it from a Secret.
const mongodbPassword = randomBytes(18).toString('base64url');

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

  test('helm install with the default values: the operator runs 2/2 Ready from the locally built image, its RBAC a Role in the release namespace', { skip }, async () => {
    const [repository, tag] = cluster.images.chorus.split(/:(?=[^:]+$)/);
    await cluster.helm([
      'install', 'chorus', join(repoRoot, 'charts', 'chorus'), '-n', ns,
      '--set', `image.repository=${repository},image.tag=${tag},image.pullPolicy=Never`,
      '--wait', '--timeout', '180s',
    ]);
    const operator = await get('deployment', 'chorus-operator');
    assert.equal(operator.status.readyReplicas, 2);
    // Least privilege by default: every later test runs this operator on namespaced rights only.
    const env = operator.spec.template.spec.containers[0].env as { name: string; value?: string }[];
    assert.equal(env.find((e) => e.name === 'CHORUS_OPERATOR_NAMESPACE')?.value, ns);
    assert.equal((await get('role', 'chorus-operator')).metadata.namespace, ns);
    assert.equal((await cluster.kubectl(['get', 'clusterrole', 'chorus-operator'])).code, 1, 'no ClusterRole');
  });

  test('kubectl apply a ChatCluster (external MongoDB = FerretDB): every child becomes Ready', { skip }, async () => {
    await cluster.kc(['-n', ns, 'apply', '-f', '-'], manifest(ferretdb(cluster.images, `${name}-mongodb`, mongodbPassword)));
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
    // One claim per NATS member (JetStream) and one for Redis (its AOF: revocations survive a restart).
    const phases = Object.fromEntries(claims.map((c: any) => [c.metadata.name, c.status.phase]));
    assert.deepEqual(phases, {
      [`data-${name}-nats-0`]: 'Bound', [`data-${name}-nats-1`]: 'Bound', [`data-${name}-nats-2`]: 'Bound', [`data-${name}-redis-0`]: 'Bound',
    }, 'JetStream and Redis on local PersistentVolumes');

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
    assert.deepEqual(header, ['NAME', 'READY', 'SIZE', 'VERSION', 'UPGRADE', 'GATEWAYS', 'WORKERS', 'QUEUE', 'BATCH', 'FLUSH-MS', 'AGE']);
    assert.equal(row![0], name);
    assert.equal(row![1], 'True');
    // SIZE is empty (no preset): the row has one word fewer than the header.
    assert.deepEqual(row!.slice(2, 4), [cluster.images.chorus.split(':').at(-1), 'Complete']);
    assert.equal(row![4], '2/2');
    assert.match(row![5]!, /^\d+\/\d+$/);
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

  test('internals are locked down: a pod of the Chorus image without credentials is refused by NATS (anonymous, guessed users, as a route), Redis and MongoDB; the Secrets exist; the chat above ran through them', { skip }, async (t) => {
    const secret = await get('secret', `${name}-nats-users`);
    assert.deepEqual(Object.keys(secret.data).sort(), ['GATEWAY_PASSWORD', 'MESSAGE_SERVICE_PASSWORD', 'OPERATOR_PASSWORD', 'PREFLIGHT_PASSWORD', 'ROUTE_PASSWORD']);
    const conf: string = (await get('configmap', `${name}-nats-config`)).data['nats.conf'];
    assert.match(conf, /authorization \{/);
    const gatewayPassword = Buffer.from(secret.data.GATEWAY_PASSWORD, 'base64').toString();
    assert.ok(!conf.includes(gatewayPassword), 'no password in the ConfigMap');
    assert.deepEqual(Object.keys((await get('secret', `${name}-redis`)).data).sort(), ['REDIS_PASSWORD', 'redis.conf']);
    const attempts = await probeInternalsWithoutCredentials(cluster, ns, name, 'ferretdb:27017');
    t.diagnostic(attempts.map((a) => `${a.service}, ${a.label}: ${a.connected ? 'CONNECTED' : a.error}`).join('\n'));
    assert.deepEqual(attempts.map((a) => `${a.service}: ${a.label}`), [
      'nats: anonymous', 'nats: guessed user admin', 'nats: gateway with a guessed password', 'nats: route with a guessed password',
      'redis: a command without a password', 'redis: AUTH with a guessed password',
      'mongodb: a read without credentials', 'mongodb: a read with a guessed password',
    ]);
    // Each refusal is the server's own answer, not a network error (the probe carries labels the policies let through).
    const refusal = { nats: /authorization violation/i, redis: /^(NOAUTH|WRONGPASS)/, mongodb: /requires authentication|Authentication failed/ };
    for (const attempt of attempts) {
      assert.equal(attempt.connected, false, `${attempt.service}, ${attempt.label}: got in`);
      assert.match(attempt.error ?? '', refusal[attempt.service], `${attempt.service}, ${attempt.label}: refused by its authentication`);
    }
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
      const { summary, acked, disconnects } = await assertExactLedger(driver);
      t.diagnostic(`deleted ${victim} and ${writer}: ${summary}`);
      assert.ok(acked >= 1000, summary);
      assert.ok(disconnects > 0, `the deleted gateway had users, who reconnected: ${summary}`);
    } finally {
      driver.close();
    }
  });

  test('tracing on: one message between two gateway pods is one trace, read back through the Jaeger Service', { skip: tracingSkip }, async (t) => {
    const { trace, sendingGateway, receivingGateways } = await traceOneMessage(cluster, ns, 'chorus', name);
    t.diagnostic(`trace ${trace.traceId}:\n${describeTrace(trace.spans)}\nlinked from ${trace.batch.name} [${trace.batch.service}] (its own trace)`);
    assertMessageTrace(trace, sendingGateway, receivingGateways);
  });

  test('evicting every platform pod in turn through the Eviction API under load loses nothing (budgets honoured)', { skip }, async (t) => {
    await evictEveryPodUnderLoad(t, cluster, ns, gatewayUrl, `app.kubernetes.io/instance in (${name},chorus)`);
  });

  // The autopilot, the version roll-out and the Helm life cycle (these run after the tests above;
  // helm uninstall removes the operator, so it stays the last test that needs one).
  const podsOf = async (component: string) =>
    (JSON.parse(await cluster.kc(['-n', ns, 'get', 'pods', '-l', `app.kubernetes.io/instance=${name},app.kubernetes.io/component=${component}`, '-o', 'json'])).items as any[])
      .filter((p) => !p.metadata.deletionTimestamp);
  const isReady = (pod: any) => pod.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') === true;

  test('a backlog (the one writer frozen under load) makes the autopilot start message-services, retune batching, and scale back down once drained', { skip }, async (t) => {
    const deployment = `${name}-message-service`;
    // A user's knobs: 50 queued messages per replica (max 3), scale down after 10 s of a shallow queue.
    // Small on purpose: if a second writer is Ready quickly it drains the new messages, and the queue
    // stays at what the frozen writer holds (its pull, up to 256, measured 235): that alone must ask for 3.
    await cluster.kc(['-n', ns, 'patch', 'chatcluster', name, '--type', 'merge', '-p', JSON.stringify({ spec: { messageService: { backlogPerReplica: 50, scaleDownStabilizationSeconds: 10 } } })]);
    await cluster.kc(['-n', ns, 'wait', '--for=jsonpath={.status.autopilot.desiredReplicas}=1', `chatcluster/${name}`, '--timeout=90s']);
    await cluster.kc(['-n', ns, 'rollout', 'status', `deployment/${deployment}`, '--timeout=120s']);
    await waitUntil(async () => (await podsOf('message-service')).length === 1, 60_000, 'one message-service pod');
    const idle = (await get('chatcluster', name)).status.batching as { batchSize: number; flushIntervalMs: number };
    const [writer] = await podsOf('message-service');
    const frozen = containerId(writer, 'message-service');

    const timeline = new AutopilotTimeline(cluster, ns, name);
    timeline.start();
    const driver = await LoadDriver.start({
      gatewayUrls: [gatewayUrl],
      protocol: v2Protocol,
      shape: { users: 40, roomSize: 4, sendsPerSecond: 150, maxSendSeconds: 90 },
      prefix: 'k8s-ap',
    });
    let tuned: { batchSize: number; flushIntervalMs: number } | undefined;
    try {
      driver.startSending();
      // The writer stops dead (cgroup freezer), as on a stalled node; the gateways keep publishing.
      await freezeContainer(frozen);
      try {
        // 150 messages/s queue up behind it: past 100 the autopilot asks for 3 replicas.
        await cluster.kc(['-n', ns, 'wait', '--for=jsonpath={.status.autopilot.desiredReplicas}=3', `chatcluster/${name}`, '--timeout=60s']);
        // ...and moves batching to the throughput end for the deep queue.
        await waitUntil(async () => {
          const b = (await get('chatcluster', name)).status.batching;
          if (b.batchSize > idle.batchSize && b.flushIntervalMs > idle.flushIntervalMs) tuned = b;
          return tuned !== undefined;
        }, 30_000, 'batching tuned up in status');
        // Real pods start and become Ready next to the frozen one.
        await waitUntil(async () => (await podsOf('message-service')).filter((p) => p.metadata.name !== writer.metadata.name && isReady(p)).length === 2, 120_000, 'two new message-service pods Ready');
        // The new workers run with the tuned settings the operator wrote (their own /metrics), as status says.
        await waitUntil(async () => {
          const status = (await get('chatcluster', name)).status.batching;
          const workers = await workerSettings(cluster, ns, name, [writer.metadata.name]);
          return workers.length === 2 && status.batchSize > idle.batchSize && workers.every((w) => w.batchSize === status.batchSize && w.flushIntervalMs === status.flushIntervalMs);
        }, 30_000, 'every new worker runs the batching settings status shows');
      } finally {
        await thawContainer(frozen);
      }
      await cluster.kc(['-n', ns, 'wait', '--for=jsonpath={.status.readyReplicas}=3', `deployment/${deployment}`, '--timeout=120s']);
      // The ledger covers the freeze and the three writers draining it: at least 1,000 messages,
      // however fast the scale-up was (at 150/s a quick one is over in under 7 s).
      await waitUntil(() => driver.snapshot().ledger.acked >= 1000, 30_000, '1,000 messages acked');
      const verdict = await assertExactLedger(driver);
      t.diagnostic(`load while one writer was frozen: ${verdict.summary}`);
      assert.ok(verdict.acked >= 1000, verdict.summary);
      // Drained: after 10 s of a shallow queue, back to one replica and small batches.
      await cluster.kc(['-n', ns, 'wait', '--for=jsonpath={.status.autopilot.desiredReplicas}=1', `chatcluster/${name}`, '--timeout=90s']);
      await waitUntil(async () => (await podsOf('message-service')).length === 1, 90_000, 'scaled down to one message-service pod');
      const selector = `app.kubernetes.io/instance=${name},app.kubernetes.io/component=message-service`;
      const leaving = (JSON.parse(await cluster.kc(['-n', ns, 'get', 'pods', '-l', selector, '-o', 'json'])).items as any[]).filter((p) => p.metadata.deletionTimestamp);
      for (const pod of leaving) await cluster.kc(['-n', ns, 'wait', '--for=delete', `pod/${pod.metadata.name}`, '--timeout=90s']);
      await waitUntil(async () => (await get('chatcluster', name)).status.batching.batchSize < tuned!.batchSize, 60_000, 'batching tuned back down');
      await waitUntil(async () => {
        const status = (await get('chatcluster', name)).status.batching;
        const workers = await workerSettings(cluster, ns, name);
        return workers.length === 1 && workers[0]!.batchSize === status.batchSize && workers[0]!.flushIntervalMs === status.flushIntervalMs;
      }, 30_000, 'the remaining worker runs the relaxed settings');
    } finally {
      driver.close();
      await timeline.stop();
      t.diagnostic(`message-service pods and ChatCluster status over time (batching before ${idle.batchSize}/${idle.flushIntervalMs} ms, tuned ${tuned?.batchSize}/${tuned?.flushIntervalMs} ms):`);
      for (const line of timeline.format().split('\n')) t.diagnostic(line);
    }
    assert.ok(timeline.maxReady >= 3, `three message-services were Ready at once:\n${timeline.format()}`);
    assert.equal(timeline.rows.at(-1)?.pods, 1, timeline.format());
    const events = await cluster.kc(['-n', ns, 'get', 'events', '--field-selector', `involvedObject.name=${name},reason=Scaled`, '-o', 'jsonpath={range .items[*]}{.message}{"\\n"}{end}']);
    assert.match(events, /message-service \d -> 3 replicas/, events);
    assert.match(events, /message-service 3 -> \d replicas/, events);
  });

  // The verified upgrade (docs/operator.md): a new version's preflight Job ran against the live
  // platform and passed, and the new pods came only after it.
  const eventsOf = async (reason: string) =>
    (JSON.parse(await cluster.kc(['-n', ns, 'get', 'events', '--field-selector', `involvedObject.name=${name},reason=${reason}`, '-o', 'json'])).items as any[]);
  const verifiedBeforeTheRoll = async (t: { diagnostic(message: string): void }, version: string) => {
    await cluster.kc(['-n', ns, 'wait', '--for=jsonpath={.status.upgrade.phase}=Complete', `chatcluster/${name}`, '--timeout=60s']);
    const { upgrade } = (await get('chatcluster', name)).status;
    assert.deepEqual([upgrade.currentVersion, upgrade.targetVersion], [version, version]);
    const passed = (await eventsOf('PreflightPassed')).filter((e) => e.message.includes(`preflight of ${version} passed`));
    assert.equal(passed.length, 1, 'one PreflightPassed Event');
    assert.match(passed[0].message, /passed \(nats\.connect, nats\.stream, nats\.consumer, nats\.settings, redis, mongodb\.connect, mongodb\.indexes, mongodb\.data, canary\.message\)/);
    const job = await get('job', upgrade.preflightJob);
    assert.equal(job.status.succeeded, 1);
    assert.equal(job.spec.template.spec.containers[0].image.split(':').at(-1), version, 'the preflight ran the new image');
    const sets = JSON.parse(await cluster.kc(['-n', ns, 'get', 'replicasets', '-l', `app.kubernetes.io/instance=${name},app.kubernetes.io/component=gateway`, '-o', 'json'])).items as any[];
    const rolled = sets.find((s) => s.spec.template.spec.containers[0].image.endsWith(`:${version}`));
    assert.ok(Date.parse(job.status.completionTime) <= Date.parse(rolled.metadata.creationTimestamp), `the new gateways' ReplicaSet (${rolled.metadata.creationTimestamp}) came after the preflight passed (${job.status.completionTime})`);
    t.diagnostic(`Event PreflightPassed: ${passed[0].message}`);
    t.diagnostic(`kubectl logs job/${upgrade.preflightJob}:\n${(await cluster.kc(['-n', ns, 'logs', `job/${upgrade.preflightJob}`])).trim()}`);
  };

  test('a spec.version change rolls gateways and message-services to the new image tag under load, losing nothing (exact ledger)', { skip }, async (t) => {
    const [repository, tag] = cluster.images.chorus.split(/:(?=[^:]+$)/) as [string, string];
    // The same image under a second tag: a new version as far as Kubernetes can tell.
    const next = `${tag}-next`;
    await tagImage(cluster.images.chorus, `${repository}:${next}`);
    const driver = await LoadDriver.start({
      gatewayUrls: [gatewayUrl],
      protocol: v2Protocol,
      shape: { users: 40, roomSize: 4, sendsPerSecond: 100, maxSendSeconds: 120 },
      prefix: 'k8s-ver',
    });
    try {
      driver.startSending();
      const delivered = () => driver.snapshot().ledger.delivered;
      await waitUntil(() => delivered() >= 2000, 60_000, 'load flowing');
      await cluster.kc(['-n', ns, 'patch', 'chatcluster', name, '--type', 'merge', '-p', JSON.stringify({ spec: { version: next } })]);
      for (const component of ['gateway', 'message-service']) {
        const deployment = `${name}-${component}`;
        await waitUntil(async () => (await get('deployment', deployment)).spec.template.spec.containers[0].image === `${repository}:${next}`, 60_000, `${deployment} renders ${next}`);
        await cluster.kc(['-n', ns, 'rollout', 'status', `deployment/${deployment}`, '--timeout=180s']);
        await waitUntil(async () => {
          const pods = await podsOf(component);
          return pods.length > 0 && pods.every((p) => p.spec.containers[0].image === `${repository}:${next}` && p.metadata.labels['app.kubernetes.io/version'] === next && isReady(p));
        }, 120_000, `every ${component} pod runs ${next}`);
      }
      await cluster.kc(['-n', ns, 'wait', '--for=condition=Ready', `chatcluster/${name}`, '--timeout=120s']);
      await verifiedBeforeTheRoll(t, next);
      const after = delivered();
      await waitUntil(() => delivered() >= after + 2000, 60_000, 'load flowing through the new pods');
      const verdict = await assertExactLedger(driver);
      t.diagnostic(`rolled ${tag} -> ${next}: ${verdict.summary}`);
      assert.ok(verdict.acked >= 1000, verdict.summary);
      assert.ok(verdict.disconnects > 0, `the replaced gateways had users, who reconnected: ${verdict.summary}`);
    } finally {
      driver.close();
    }
  });

  test('a version whose preflight fails (an index its message-services could not create) rolls nothing: Degraded with the failed check, an Event, the old version serving', { skip }, async (t) => {
    const [repository, tag] = cluster.images.chorus.split(/:(?=[^:]+$)/) as [string, string];
    const running = (await get('chatcluster', name)).status.upgrade.currentVersion as string;
    const bad = `${tag}-bad`;
    await tagImage(cluster.images.chorus, `${repository}:${bad}`);
    // The pod templates (replicas may change: the autopilot scales the message-services meanwhile).
    const templates = Object.fromEntries(await Promise.all(['gateway', 'message-service'].map(async (c) => [c, JSON.stringify((await get('deployment', `${name}-${c}`)).spec.template)])));
    // A real incompatibility in the live data: the unique (room, pos) index replaced by a plain one of
    // the same name, so createIndex of any message-service would fail. FerretDB's pod, on the bridge.
    const ferret = JSON.parse(await cluster.kc(['-n', ns, 'get', 'pods', '-l', 'app=ferretdb', '-o', 'json'])).items[0];
    const mongo = await new MongoClient(ferretdbUri(ferret.status.podIP, mongodbPassword), { directConnection: true, serverSelectionTimeoutMS: 10_000 }).connect();
    const messages = mongo.db('chorus').collection('messages');
    await setRoomPosIndex(messages, false);
    try {
      await cluster.kc(['-n', ns, 'patch', 'chatcluster', name, '--type', 'merge', '-p', JSON.stringify({ spec: { version: bad } })]);
      await cluster.kc(['-n', ns, 'wait', '--for=jsonpath={.status.upgrade.phase}=PreflightFailed', `chatcluster/${name}`, '--timeout=120s']);
      const { status } = await get('chatcluster', name);
      t.diagnostic(`kubectl get chatcluster\n${await cluster.kc(['-n', ns, 'get', 'chatcluster', name])}`);
      t.diagnostic(`status.upgrade: ${JSON.stringify(status.upgrade)}`);
      const degraded = status.conditions.find((c: any) => c.type === 'Degraded');
      t.diagnostic(`Degraded: ${JSON.stringify(degraded)}`);
      assert.deepEqual([degraded.status, degraded.reason], ['True', 'PreflightFailed']);
      assert.match(degraded.message, new RegExp(`preflight of ${bad} failed: check mongodb\\.indexes: messages\\.room_pos is \\{"room":1,"pos":1\\}, this version needs \\{"room":1,"pos":1\\} unique; ${running} keeps serving`));
      assert.deepEqual([status.upgrade.currentVersion, status.upgrade.targetVersion, status.upgrade.failedCheck], [running, bad, 'mongodb.indexes']);
      const events = await eventsOf('PreflightFailed');
      assert.equal(events.length, 1);
      assert.equal(events[0].type, 'Warning');
      assert.match(events[0].message, /check mongodb\.indexes/);
      t.diagnostic(`Event ${events[0].type} PreflightFailed: ${events[0].message}`);
      t.diagnostic(`kubectl logs job/${status.upgrade.preflightJob}:\n${(await cluster.kc(['-n', ns, 'logs', `job/${status.upgrade.preflightJob}`])).trim()}`);
      // Nothing rolled: the same pod templates, every pod on the running version, and it serves.
      for (const component of ['gateway', 'message-service']) {
        assert.equal(JSON.stringify((await get('deployment', `${name}-${component}`)).spec.template), templates[component], `${component} pod template unchanged`);
        const pods = await podsOf(component);
        assert.ok(pods.length > 0 && pods.every((p) => p.metadata.labels['app.kubernetes.io/version'] === running && isReady(p)), `${component} pods run ${running}`);
      }
      const carol = await connectUser(gatewayUrl, 'carol');
      users.push(carol);
      const dave = await connectUser(gatewayUrl, 'dave');
      users.push(dave);
      assert.equal((await carol.request({ type: 'create', room: 'after-failed-preflight' })).type, 'joined');
      assert.equal((await dave.request({ type: 'join', room: 'after-failed-preflight' })).type, 'joined');
      assert.equal((await carol.request({ type: 'send', room: 'after-failed-preflight', clientMsgId: 'c0', text: 'still here' })).type, 'ack');
      await dave.waitFor((f) => f.type === 'message' && f.text === 'still here');
    } finally {
      await setRoomPosIndex(messages, true);
      await mongo.close();
      // Back to the running version: nothing to check, not Degraded.
      await cluster.kc(['-n', ns, 'patch', 'chatcluster', name, '--type', 'merge', '-p', JSON.stringify({ spec: { version: running } })]);
    }
    await cluster.kc(['-n', ns, 'wait', '--for=jsonpath={.status.upgrade.phase}=Complete', `chatcluster/${name}`, '--timeout=60s']);
    await cluster.kc(['-n', ns, 'wait', '--for=condition=Degraded=False', `chatcluster/${name}`, '--timeout=60s']);
  });

  const chart = join(repoRoot, 'charts', 'chorus');
  const operatorSelector = 'app.kubernetes.io/instance=chorus,app.kubernetes.io/component=operator';
  const operatorPods = async () =>
    (JSON.parse(await cluster.kc(['-n', ns, 'get', 'pods', '-l', operatorSelector, '-o', 'json'])).items as any[]).filter((p) => !p.metadata.deletionTimestamp);

  test('helm upgrade with a changed value rolls the operator Deployment, and a new replica leads', { skip }, async () => {
    const before = await get('deployment', 'chorus-operator');
    const oldPods = new Set((await operatorPods()).map((p) => p.metadata.name as string));
    await cluster.helm(['upgrade', 'chorus', chart, '-n', ns, '--reuse-values', '--set', 'operator.logLevel=debug', '--wait', '--timeout', '180s']);
    await cluster.kc(['-n', ns, 'rollout', 'status', 'deployment/chorus-operator', '--timeout=120s']);
    const upgraded = await get('deployment', 'chorus-operator');
    assert.ok(upgraded.metadata.generation > before.metadata.generation, 'the Deployment spec changed');
    const logLevel = (pod: any) => pod.spec.containers[0].env.find((e: any) => e.name === 'LOG_LEVEL')?.value;
    await waitUntil(async () => {
      const pods = await operatorPods();
      return pods.length === 2 && pods.every((p) => !oldPods.has(p.metadata.name) && logLevel(p) === 'debug' && isReady(p));
    }, 120_000, 'two new operator pods with LOG_LEVEL=debug');
    const history = JSON.parse(await cluster.helm(['history', 'chorus', '-n', ns, '-o', 'json'])) as { revision: number; status: string }[];
    // Earlier tests may have upgraded the release too (tracing on): the newest revision is this one.
    const revisions = history.map((h) => [h.revision, h.status]);
    assert.deepEqual(revisions, revisions.map(([revision], i) => [revision, i === revisions.length - 1 ? 'deployed' : 'superseded']));
    assert.ok(revisions.length >= 2, JSON.stringify(revisions));
    // One of the new replicas took the Lease over.
    await waitUntil(async () => {
      const holder = (await get('lease', 'chorus-operator')).spec?.holderIdentity;
      return (await operatorPods()).some((p) => p.metadata.name === holder);
    }, 60_000, 'a new operator pod holds the Lease');
  });

  test('helm test: the operator check passes (its pod is then deleted), and fails with the reason while the operator is down', { skip }, async () => {
    const out = await cluster.helm(['test', 'chorus', '-n', ns, '--timeout', '120s']);
    assert.match(out, /TEST SUITE:\s+chorus-operator-check[\s\S]*Phase:\s+Succeeded/);
    assert.equal(await cluster.kc(['-n', ns, 'get', 'pod', 'chorus-operator-check', '--ignore-not-found', '-o', 'name']), '', 'a passed check deletes its pod');

    await cluster.kc(['-n', ns, 'scale', 'deployment/chorus-operator', '--replicas=0']);
    try {
      await cluster.kc(['-n', ns, 'wait', '--for=delete', 'pod', '-l', operatorSelector, '--timeout=90s']);
      await assert.rejects(cluster.helm(['test', 'chorus', '-n', ns, '--timeout', '120s']), /chorus-operator-check/);
      const log = await cluster.kc(['-n', ns, 'logs', 'chorus-operator-check']);
      assert.match(log, /GET http:\/\/chorus-operator:8081\/readyz: connect ECONNREFUSED/, `the failed check says what failed:\n${log}`);
    } finally {
      await cluster.kc(['-n', ns, 'delete', 'pod', 'chorus-operator-check', '--ignore-not-found', '--wait=true']);
      await cluster.kc(['-n', ns, 'scale', 'deployment/chorus-operator', '--replicas=2']);
      await cluster.kc(['-n', ns, 'rollout', 'status', 'deployment/chorus-operator', '--timeout=120s']);
    }
  });

  test('helm uninstall removes every object the chart created; the CRD, the ChatClusters and the operator\'s Lease stay', { skip }, async (t) => {
    const release = new HelmRelease(cluster, 'chorus', ns);
    const manifest = await release.manifest();
    const created = await release.objectsOf(manifest);
    const kinds = new Set(created.map((o) => o.kind));
    for (const kind of ['ServiceAccount', 'Role', 'RoleBinding', 'Service', 'Deployment', 'PodDisruptionBudget']) {
      assert.ok(kinds.has(kind), `the release created a ${kind}: ${created.map(describeObject).join(', ')}`);
    }
    const labelled = await release.labelled();
    assert.ok(labelled.some((o) => o.kind === 'Pod'), 'the sweep sees the operator pods');
    assert.ok((await release.records()).length >= 2, 'one release record per revision');
    t.diagnostic(`the release's objects: ${created.map(describeObject).join(', ')}`);

    await cluster.helm(['uninstall', 'chorus', '-n', ns, '--wait', '--timeout', '120s']);
    await cluster.kc(['-n', ns, 'wait', '--for=delete', 'pod', '-l', operatorSelector, '--timeout=90s']);
    assert.deepEqual((await release.objectsOf(manifest, true)).map(describeObject), [], 'objects of the release manifest left');
    assert.deepEqual((await release.labelled()).map(describeObject), [], 'objects with the chart labels left');
    assert.deepEqual((await release.records()).map(describeObject), [], 'release records left');
    // Kept on purpose (docs/kubernetes.md, "Uninstall"): Helm never deletes a chart's crds/, so the
    // ChatClusters and what they own stay; and the Lease the operator itself wrote.
    await cluster.kc(['get', 'crd', 'chatclusters.chorus.dev']);
    await cluster.kc(['-n', ns, 'get', 'chatcluster', name]);
    await cluster.kc(['-n', ns, 'get', 'deployment', `${name}-gateway`]);
    await cluster.kc(['-n', ns, 'get', 'lease', 'chorus-operator']);
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
