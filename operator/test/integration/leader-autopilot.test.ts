import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { binaries } from '@chorus/local/servers/binaries';
import { freePort } from '@chorus/local/servers/free-port';
import { httpReady, ManagedProcess } from '@chorus/local/servers/managed-process';
import { batchingKey, consumerName, settingsBucket, streamName, subjects } from '@chorus/shared/bus/names';
import { eventually, repoRoot, startTestCluster, type TestCluster } from './harness.js';

/**
 * Two real operator processes against a real kube-apiserver and a real nats-server: one leader,
 * fail-over when it dies, and the autopilot turning a JetStream backlog into replicas and
 * batching settings (status, Deployment, KV bucket, Events).
 */
describe('leader election and autopilot', { timeout: 120_000 }, () => {
  let cluster: TestCluster;
  let nats: ManagedProcess;
  let nc: NatsConnection;
  let natsUrl = '';
  let operatorKubeconfig = '';
  const operators = new Map<string, { process: ManagedProcess; port: number }>();
  const crPath = '/apis/chorus.dev/v1alpha1/namespaces/default/chatclusters/auto';
  const leasePath = '/apis/coordination.k8s.io/v1/namespaces/default/leases/chorus-operator';

  async function startOperator(identity: string): Promise<void> {
    const port = await freePort();
    const process = new ManagedProcess({
      name: `operator-${identity}`,
      command: globalThis.process.execPath,
      args: [
        join(repoRoot, 'operator/dist/src/main.js'),
        '--kubeconfig', operatorKubeconfig,
        '--identity', identity,
        '--lease-namespace', 'default',
        '--health-port', String(port),
        '--health-host', '127.0.0.1',
        '--lease-duration-ms', '3000',
        '--renew-deadline-ms', '2000',
        '--retry-period-ms', '400',
        '--nats-url', natsUrl,
        '--autopilot-interval-ms', '500',
      ],
      env: { ...globalThis.process.env, LOG_LEVEL: 'info' },
      logFile: join(cluster.dir, `operator-${identity}.log`),
      ready: httpReady(port, '/healthz'),
    });
    await process.start();
    operators.set(identity, { process, port });
  }

  const lease = async () => (await cluster.get(leasePath))?.spec as { holderIdentity?: string; leaseTransitions?: number } | undefined;
  const cr = () => cluster.get(crPath);
  const metric = async (identity: string, name: string) => {
    const text = await (await fetch(`http://127.0.0.1:${operators.get(identity)!.port}/metrics`)).text();
    return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]);
  };

  before(async () => {
    cluster = await startTestCluster('leader');
    // The operators run as a ServiceAccount with exactly the RBAC rules docs/operator.md lists.
    const doc = readFileSync(join(repoRoot, 'docs/operator.md'), 'utf8');
    const rbac = /## RBAC[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(rbac, 'docs/operator.md has a yaml block under "## RBAC"');
    await cluster.kc(['apply', '-f', '-'], rbac);
    await cluster.kc(['create', 'serviceaccount', 'chorus-operator']);
    await cluster.kc(['create', 'clusterrolebinding', 'chorus-operator', '--clusterrole=chorus-operator', '--serviceaccount=default:chorus-operator']);
    const token = (await cluster.kc(['create', 'token', 'chorus-operator', '--duration=1h'])).trim();
    operatorKubeconfig = cluster.kube.writeKubeconfig('operator', token);
    const denied = await cluster.kubectl(['--kubeconfig', operatorKubeconfig, 'get', 'nodes']);
    assert.match(denied.stderr, /forbidden/i, 'the ServiceAccount must not be an admin');
    const natsPort = await freePort();
    const monitorPort = await freePort();
    mkdirSync(join(cluster.dir, 'nats'), { recursive: true });
    nats = new ManagedProcess({
      name: 'nats-server',
      command: binaries.natsServer(),
      args: ['-js', '-sd', join(cluster.dir, 'nats'), '-a', '127.0.0.1', '-p', String(natsPort), '-m', String(monitorPort)],
      ready: httpReady(monitorPort, '/healthz?js-enabled-only=true'),
    });
    await nats.start();
    natsUrl = `nats://127.0.0.1:${natsPort}`;
    nc = await connect({ servers: natsUrl });
    // What the message-services set up: the input stream and their shared durable consumer.
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: streamName, subjects: [subjects.inboundAll] });
    await jsm.consumers.add(streamName, { durable_name: consumerName, ack_policy: AckPolicy.Explicit, max_ack_pending: 100_000 });
    // A backlog nobody is consuming yet.
    const js = jetstream(nc);
    const acks = [];
    for (let i = 0; i < 5000; i++) acks.push(js.publish(subjects.inbound('lobby'), JSON.stringify({ i })));
    await Promise.all(acks);
    await Promise.all([startOperator('op-a'), startOperator('op-b')]);
  });

  after(async () => {
    for (const { process } of operators.values()) await process.stop();
    await nc?.close();
    await nats?.stop();
    await cluster?.stop();
  });

  test('two replicas elect exactly one leader; the standby is ready too', async () => {
    const holder = await eventually(async () => (await lease())?.holderIdentity, 10_000, 'a lease holder');
    assert.ok(operators.has(holder));
    const other = [...operators.keys()].find((id) => id !== holder)!;
    await eventually(async () => (await metric(holder, 'chorus_operator_is_leader')) === 1, 5_000, 'leader metric');
    assert.equal(await metric(other, 'chorus_operator_is_leader'), 0);
    // One active: only the leader reconciles.
    await cluster.kc(['apply', '-f', '-'], 'apiVersion: chorus.dev/v1alpha1\nkind: ChatCluster\nmetadata: {name: probe}\nspec: {}\n');
    await eventually(async () => (await metric(holder, 'chorus_operator_reconcile_total')) > 0, 10_000, 'leader reconciles');
    assert.ok(!((await metric(other, 'chorus_operator_reconcile_total')) > 0), 'the standby must not reconcile');
    await cluster.kc(['delete', 'chat', 'probe']);
    // The leader is ready once its caches have synced; the standby is ready to take over at once.
    for (const { port } of operators.values()) {
      await eventually(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 10_000, 'readyz');
    }
  });

  test('the autopilot scales message-service from the backlog and tunes batching into status and KV', async () => {
    await cluster.kc(['apply', '-f', '-'], [
      'apiVersion: chorus.dev/v1alpha1',
      'kind: ChatCluster',
      'metadata: {name: auto}',
      'spec:',
      '  messageService: {minReplicas: 1, maxReplicas: 4, backlogPerReplica: 1000, scaleDownStabilizationSeconds: 3}',
      '  batching: {mode: auto, targetLatencyMs: 100, bounds: {minBatchSize: 10, maxBatchSize: 500, minFlushMs: 5, maxFlushMs: 100}}',
    ].join('\n'));
    const scaled = await eventually(async () => {
      const c = await cr();
      return c?.status?.autopilot?.desiredReplicas === 4 && c.status.batching?.batchSize === 500 && c;
    }, 15_000, 'autopilot status');
    assert.equal(scaled.status.autopilot.queueDepth, 5000);
    assert.deepEqual(scaled.status.batching, { mode: 'auto', batchSize: 500, flushIntervalMs: 100, source: 'autopilot' });
    await eventually(async () => (await cluster.get('/apis/apps/v1/namespaces/default/deployments/auto-message-service'))?.spec.replicas === 4, 10_000, 'Deployment at 4 replicas');
    const kv = await new Kvm(nc).open(settingsBucket);
    const entry = await kv.get(batchingKey);
    assert.deepEqual(entry?.json(), { batchSize: 500, flushIntervalMs: 100, source: 'autopilot' });
    await eventually(async () => /auto\s+False\s+\S+\s+RollingOut\s+0\/2\s+0\/4\s+5000\s+500\s+100/.test(await cluster.kc(['get', 'chat', 'auto'])), 10_000, 'kubectl get chat columns');
    const events = JSON.parse(await cluster.kc(['get', 'events', '--field-selector', 'involvedObject.name=auto', '-o', 'json'])).items;
    assert.ok(events.some((e: any) => e.reason === 'Scaled' && /1 -> 4 replicas/.test(e.message)), 'Scaled event');
    assert.ok(events.some((e: any) => e.reason === 'BatchingTuned'), 'BatchingTuned event');

    // Workers catch up: the backlog drains, replicas come down after the 3 s window, batches shrink.
    const consumer = await jetstream(nc).consumers.get(streamName, consumerName);
    let drained = 0;
    while (drained < 5000) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: 2000 });
      for await (const m of batch) {
        m.ack();
        drained++;
      }
    }
    const calm = await eventually(async () => {
      const c = await cr();
      return c.status.autopilot.desiredReplicas === 1 && c.status.autopilot.queueDepth === 0 && c.status.batching.batchSize < 500 && c;
    }, 30_000, 'scale down and smaller batches');
    const settings = (await kv.get(batchingKey))?.json<{ batchSize: number }>();
    assert.equal(settings?.batchSize, calm.status.batching.batchSize);

    // Fixed mode: the spec's settings go to KV as they are.
    await cluster.kc(['patch', 'chat', 'auto', '--type=merge', '-p', JSON.stringify({ spec: { batching: { mode: 'fixed', batchSize: 77, flushIntervalMs: 33 } } })]);
    await eventually(async () => {
      const c = await cr();
      return c.status.batching.mode === 'fixed' && c.status.batching.batchSize === 77 && c.status.batching.flushIntervalMs === 33;
    }, 10_000, 'fixed settings in status');
    assert.deepEqual((await kv.get(batchingKey))?.json(), { batchSize: 77, flushIntervalMs: 33, source: 'operator' });
  });

  test('when the leader dies, the standby takes over and keeps reconciling', async () => {
    const before = (await lease())!;
    const leader = before.holderIdentity!;
    const standby = [...operators.keys()].find((id) => id !== leader)!;
    const dying = operators.get(leader)!.process;
    process.kill(dying.pid!, 'SIGKILL'); // a crash: no graceful release of the lease
    await dying.whenExited();
    const killedAt = Date.now();
    await eventually(async () => (await lease())?.holderIdentity === standby, 10_000, 'standby holds the lease');
    const tookMs = Date.now() - killedAt;
    assert.ok(tookMs < 8_000, `fail-over took ${tookMs} ms`);
    assert.equal((await lease())!.leaseTransitions, (before.leaseTransitions ?? 0) + 1);
    await eventually(async () => (await metric(standby, 'chorus_operator_is_leader')) === 1, 5_000, 'new leader metric');
    // The new leader reconciles: a deleted child comes back.
    const gone = await cluster.get('/apis/apps/v1/namespaces/default/deployments/auto-gateway');
    await cluster.kc(['delete', 'deployment', 'auto-gateway', '--wait=false']);
    await eventually(async () => {
      const d = await cluster.get('/apis/apps/v1/namespaces/default/deployments/auto-gateway');
      return d && d.metadata.uid !== gone.metadata.uid;
    }, 10_000, 'gateway re-created by the new leader');
    // ... and runs the autopilot.
    const seen = (await cr()).status.autopilot.lastObservedTime;
    const jsPublish = jetstream(nc);
    for (let i = 0; i < 50; i++) await jsPublish.publish(subjects.inbound('lobby'), '{}');
    await eventually(async () => {
      const c = await cr();
      return c.status.autopilot.queueDepth === 50 && c.status.autopilot.lastObservedTime !== seen;
    }, 15_000, 'autopilot running on the new leader');
  });

  test('a leader stopped gracefully (SIGTERM) releases the lease: a standby takes over at once', async () => {
    const leader = (await lease())!.holderIdentity!;
    await startOperator('op-c');
    await eventually(async () => (await fetch(`http://127.0.0.1:${operators.get('op-c')!.port}/readyz`)).status === 200, 5_000, 'op-c ready');
    // Timed on the Lease record, not on the wall clock of the test: how long the old leader takes
    // to shut down (stop reconciling, close NATS) is not the hand-over.
    type Spec = { holderIdentity?: string; renewTime?: string; acquireTime?: string };
    let lastOldRenew = '';
    let acquired: Spec | undefined;
    const stopping = operators.get(leader)!.process.stop(); // SIGTERM: main releases the lease and exits
    await eventually(async () => {
      const spec = (await cluster.get(leasePath))?.spec as Spec | undefined;
      if (spec?.holderIdentity === 'op-c') acquired = spec;
      else if (spec?.renewTime) lastOldRenew = spec.renewTime; // the leader's renewals, then its release
      return acquired !== undefined;
    }, 10_000, 'op-c holds the lease');
    await stopping;
    const tookMs = Date.parse(acquired!.acquireTime!) - Date.parse(lastOldRenew);
    // Without the release op-c would wait for the 3 s lease to expire after the last renewal.
    assert.ok(tookMs < 2_000, `op-c took the lease ${tookMs} ms after the old leader last wrote it`);
  });
});
