import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../src/config.js';
import { Operator } from '../../src/operator.js';
import { eventually, examplePath, sleep, startTestCluster, type TestCluster } from './harness.js';

/**
 * The reconciler against a real kube-apiserver + etcd, driven with the real kubectl. One operator
 * in-process (no leader election here; see leader-autopilot.test.ts), one ChatCluster "demo"
 * from examples/. The last test runs after the operator has been up for over 65 s and checks
 * that its watches are still delivering events without errors.
 */
describe('operator reconciles a ChatCluster', { timeout: 180_000 }, () => {
  let cluster: TestCluster;
  let operator: Operator;
  let startedAt = 0;
  const errorsAtSync = new Map<string, number>();
  const ns = '/apis/apps/v1/namespaces/default';
  const core = '/api/v1/namespaces/default';

  before(async () => {
    cluster = await startTestCluster('reconcile');
    operator = new Operator(
      loadConfig(['--kubeconfig', cluster.kube.kubeconfigPath, '--leader-elect', 'false', '--health-port', '0', '--health-host', '127.0.0.1', '--autopilot', 'false', '--watch-timeout-seconds', '20'], {}),
    );
    await operator.start();
    startedAt = Date.now();
    // Errors before the first sync (the CRD's storage may still be initializing) are not what we test.
    for (const informer of operator.manager!.informers) errorsAtSync.set(informer.kind.kind, informer.stats.errors);
  });

  after(async () => {
    await operator?.stop();
    await cluster?.stop();
  });

  test('kubectl apply of the example creates every child with its spec and an owner reference', async () => {
    await cluster.kc(['apply', '-f', examplePath]);
    const cr = await cluster.get('/apis/chorus.dev/v1alpha1/namespaces/default/chatclusters/demo');
    const expected = [
      `${ns}/deployments/demo-gateway`,
      `${ns}/deployments/demo-message-service`,
      `${ns}/deployments/demo-loadtest`,
      `${ns}/statefulsets/demo-nats`,
      `${ns}/statefulsets/demo-redis`,
      `${ns}/statefulsets/demo-mongodb`,
      `${core}/services/demo-gateway`,
      `${core}/services/demo-nats`,
      `${core}/services/demo-nats-headless`,
      `${core}/services/demo-redis`,
      `${core}/services/demo-redis-headless`,
      `${core}/services/demo-mongodb-headless`,
      `${core}/configmaps/demo-config`,
      `${core}/configmaps/demo-nats-config`,
      `${core}/secrets/demo-token`,
      `${core}/secrets/demo-nats-users`,
      `${core}/secrets/demo-redis`,
      `${core}/secrets/demo-mongodb-auth`,
      `${core}/secrets/demo-mongodb-uri`,
      '/apis/networking.k8s.io/v1/namespaces/default/networkpolicies/demo-netpol-default-deny',
      '/apis/networking.k8s.io/v1/namespaces/default/networkpolicies/demo-netpol-redis',
      '/apis/policy/v1/namespaces/default/poddisruptionbudgets/demo-gateway',
      '/apis/policy/v1/namespaces/default/poddisruptionbudgets/demo-message-service',
      '/apis/policy/v1/namespaces/default/poddisruptionbudgets/demo-nats',
      '/apis/policy/v1/namespaces/default/poddisruptionbudgets/demo-mongodb',
      '/apis/policy/v1/namespaces/default/poddisruptionbudgets/demo-redis',
    ];
    const children = await eventually(async () => {
      const all = await Promise.all(expected.map((path) => cluster.get(path)));
      return all.every(Boolean) ? all : undefined;
    }, 20_000, 'every child');
    // No garbage collector runs here: assert the references that would delete them with the CR.
    for (const child of children) {
      const refs = child.metadata.ownerReferences;
      assert.equal(refs?.length, 1, `${child.kind}/${child.metadata.name} owner references`);
      assert.deepEqual(
        { kind: refs[0].kind, name: refs[0].name, uid: refs[0].uid, controller: refs[0].controller, apiVersion: refs[0].apiVersion },
        { kind: 'ChatCluster', name: 'demo', uid: cr.metadata.uid, controller: true, apiVersion: 'chorus.dev/v1alpha1' },
      );
      assert.equal(child.metadata.labels['app.kubernetes.io/managed-by'], 'chorus-operator');
    }
    // The Jobs may be applied after the children awaited above (apply order), so wait for them too.
    const jobs: any[] = await eventually(async () => {
      const items = (await cluster.get('/apis/batch/v1/namespaces/default/jobs')).items;
      return items.some((j: any) => j.metadata.name.startsWith('demo-loadtest-')) && items.some((j: any) => j.metadata.name.startsWith('demo-mongodb-init-')) ? items : undefined;
    }, 10_000, 'load-test and replica set init Jobs');
    assert.ok(jobs.some((j: any) => j.metadata.name.startsWith('demo-mongodb-init-')), 'replica set init Job');
    const loadJob = jobs.find((j: any) => j.metadata.name.startsWith('demo-loadtest-'));
    assert.deepEqual(loadJob.spec.template.spec.containers[0].command, ['loadtest', 'steady', '--gateway', 'http://demo-gateway:8080', '--users', '200', '--duration', '60s']);

    const gateway = children[0];
    assert.equal(gateway.spec.replicas, 2);
    const container = gateway.spec.template.spec.containers[0];
    assert.equal(container.image, 'ghcr.io/chorus-chat/chorus:0.1.0');
    assert.deepEqual(container.command, ['node', 'gateway/dist/src/main.js']);
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    // The example runs in dev mode (its load test logs in by name); the key is the generated Secret.
    assert.equal(container.env.find((e: any) => e.name === 'AUTH_MODE').value, 'dev');
    assert.deepEqual(container.env.find((e: any) => e.name === 'AUTH_HS256_SECRET').valueFrom.secretKeyRef, { name: 'demo-token', key: 'CHORUS_TOKEN_SECRET' });
    assert.deepEqual(container.env.find((e: any) => e.name === 'ADMIN_TOKEN').valueFrom.secretKeyRef, { name: 'demo-admin', key: 'ADMIN_TOKEN' });
    assert.ok((await cluster.get(`/api/v1/namespaces/default/secrets/demo-admin`)).data.ADMIN_TOKEN, 'the admin Secret was created');
    assert.deepEqual((await cluster.get(`/api/v1/namespaces/default/services/demo-gateway`)).spec.ports.map((p: any) => p.name), ['http'], 'no metrics on the public Service');
    assert.equal((await cluster.get(`/api/v1/namespaces/default/services/demo-gateway-metrics`)).spec.ports[0].port, 9464);
    assert.equal(container.env.find((e: any) => e.name === 'GATEWAY_ID').valueFrom.fieldRef.fieldPath, 'metadata.name');
    assert.ok(container.resources.requests.cpu, 'resources');
    // Every pod template is "restricted".
    for (const workload of children.filter((c) => c.kind === 'Deployment' || c.kind === 'StatefulSet')) {
      const pod = workload.spec.template.spec;
      assert.equal(pod.securityContext.runAsNonRoot, true, workload.metadata.name);
      assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
      for (const c of pod.containers) {
        assert.equal(c.securityContext.allowPrivilegeEscalation, false);
        assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
        assert.ok(c.resources?.requests, `${workload.metadata.name} resources`);
        if (workload.metadata.name !== 'demo-loadtest') assert.ok(c.readinessProbe && c.livenessProbe, `${workload.metadata.name} probes`);
      }
    }
    const config = children.find((c) => c.metadata.name === 'demo-config');
    assert.equal(config.data.NATS_URL, 'nats://demo-nats.default.svc:4222');
    assert.equal(config.data.MONGODB_URI, undefined, 'the URI holds credentials: never in the ConfigMap');
    const uriSecret = children.find((c) => c.kind === 'Secret' && c.metadata.name === 'demo-mongodb-uri');
    const uri = Buffer.from(uriSecret.data.uri, 'base64').toString('utf8');
    assert.match(uri, /^mongodb:\/\/root:[\w-]{43}@demo-mongodb-0\.demo-mongodb-headless\.default\.svc:27017,.*replicaSet=rs0/);
    const nats = children.find((c) => c.kind === 'StatefulSet' && c.metadata.name === 'demo-nats');
    assert.equal(nats.spec.replicas, 3);
    assert.equal(nats.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '2Gi');
    const natsConf = children.find((c) => c.metadata.name === 'demo-nats-config').data['nats.conf'];
    assert.match(natsConf, /jetstream \{/);
    assert.match(natsConf, /authorization \{/);
    // The route URLs hold the route password, so they are in the pod's env, not the ConfigMap.
    const routes = nats.spec.template.spec.containers[0].env.find((e: any) => e.name === 'ROUTE_URLS').value;
    assert.match(routes, /nats:\/\/route:\$\(ROUTE_PASSWORD\)@demo-nats-2\.demo-nats-headless\.default\.svc:6222/);
    const mongo = children.find((c) => c.metadata.name === 'demo-mongodb' && c.kind === 'StatefulSet');
    const mongod = mongo.spec.template.spec.containers[0].command;
    assert.deepEqual(mongod.slice(0, 2), ['sh', '-c']);
    assert.match(mongod[2], /\nexec mongod --replSet rs0 .*--keyFile \S+$/, 'a replica set with internal authentication');
    // Server-side apply with our field manager.
    assert.ok(gateway.metadata.managedFields.some((f: any) => f.manager === 'chorus-operator' && f.operation === 'Apply'));
  });

  test('status gets conditions, counts and printer columns; Ready follows the workloads', async () => {
    const cr = await eventually(async () => {
      const c = await cluster.get('/apis/chorus.dev/v1alpha1/namespaces/default/chatclusters/demo');
      return c?.status?.conditions?.length === 3 ? c : undefined;
    }, 10_000, 'status conditions');
    const byType = Object.fromEntries(cr.status.conditions.map((c: any) => [c.type, c]));
    assert.equal(byType.Ready.status, 'False');
    assert.equal(byType.Ready.reason, 'ComponentsNotReady');
    assert.match(byType.Ready.message, /gateway 0\/2/);
    assert.equal(byType.Progressing.status, 'True');
    assert.equal(byType.Degraded.status, 'False');
    for (const c of cr.status.conditions) {
      assert.equal(c.observedGeneration, 1);
      assert.ok(!Number.isNaN(Date.parse(c.lastTransitionTime)));
    }
    assert.equal(cr.status.gateway.summary, '0/2');
    const table = await cluster.kc(['get', 'chat', 'demo']);
    assert.match(table, /NAME\s+READY\s+SIZE\s+VERSION\s+UPGRADE\s+GATEWAYS\s+WORKERS\s+QUEUE\s+BATCH\s+FLUSH-MS\s+AGE/);
    assert.match(table, /demo\s+False\s+0\.1\.0\s+RollingOut\s+0\/2\s+0\/1/);

    // No kubelet here: play the controllers' part and report the workloads ready.
    const ready = async (kind: string, name: string, n: number) => {
      const path = `${ns}/${kind === 'deployment' ? 'deployments' : 'statefulsets'}/${name}`;
      const generation = (await cluster.get(path)).metadata.generation;
      const status = { observedGeneration: generation, replicas: n, readyReplicas: n, updatedReplicas: n, availableReplicas: n };
      return cluster.kc(['patch', kind, name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
    };
    await ready('deployment', 'demo-gateway', 2);
    await ready('deployment', 'demo-message-service', 1);
    await ready('statefulset', 'demo-nats', 3);
    await ready('statefulset', 'demo-redis', 1);
    await ready('statefulset', 'demo-mongodb', 3);
    const settled = await eventually(async () => {
      const c = await cluster.get('/apis/chorus.dev/v1alpha1/namespaces/default/chatclusters/demo');
      return c.status.conditions.find((x: any) => x.type === 'Ready').status === 'True' && c;
    }, 10_000, 'Ready=True');
    assert.equal(settled.status.conditions.find((x: any) => x.type === 'Progressing').status, 'False');
    assert.match(await cluster.kc(['get', 'chat', 'demo']), /demo\s+True\s+0\.1\.0\s+Complete\s+2\/2\s+1\/1/);
    const events = await cluster.kc(['get', 'events', '--field-selector', 'involvedObject.name=demo', '-o', 'json']);
    const reasons = JSON.parse(events).items.map((e: any) => e.reason);
    assert.ok(reasons.includes('Created'), reasons.join(','));
    assert.ok(reasons.includes('Ready'), reasons.join(','));
  });

  test('a spec change rolls the children; kubectl scale uses the scale subresource; unwanted children are pruned', async () => {
    await cluster.kc(['patch', 'chat', 'demo', '--type=merge', '-p', JSON.stringify({ spec: { version: '0.2.0', loadtest: { enabled: false }, logLevel: 'debug' } })]);
    // A new version first runs its preflight Job; until it passed, the workloads keep 0.1.0.
    const preflight = await eventually(async () => {
      const jobs = (await cluster.get('/apis/batch/v1/namespaces/default/jobs')).items.filter((j: any) => j.metadata.name.startsWith('demo-preflight-'));
      return jobs.length === 1 && jobs[0];
    }, 10_000, 'preflight Job');
    assert.equal(preflight.spec.template.spec.containers[0].image, 'ghcr.io/chorus-chat/chorus:0.2.0');
    const checking = await eventually(async () => {
      const c = await cluster.get('/apis/chorus.dev/v1alpha1/namespaces/default/chatclusters/demo');
      return c.status.upgrade?.phase === 'Preflight' && c;
    }, 10_000, 'upgrade phase Preflight');
    assert.deepEqual([checking.status.upgrade.currentVersion, checking.status.upgrade.targetVersion], ['0.1.0', '0.2.0']);
    assert.equal((await cluster.get(`${ns}/deployments/demo-gateway`)).spec.template.spec.containers[0].image, 'ghcr.io/chorus-chat/chorus:0.1.0');
    assert.equal((await cluster.get(`${core}/configmaps/demo-config`)).data.LOG_LEVEL, 'debug', 'the rest of the change is applied meanwhile');
    // No Job controller here: play its part and report the Job succeeded.
    const now = new Date().toISOString();
    await cluster.kc(['patch', 'job', preflight.metadata.name, '--subresource=status', '--type=merge', '-p', JSON.stringify({
      status: {
        startTime: now, completionTime: now, succeeded: 1,
        conditions: [
          { type: 'SuccessCriteriaMet', status: 'True', lastProbeTime: now, lastTransitionTime: now },
          { type: 'Complete', status: 'True', lastProbeTime: now, lastTransitionTime: now },
        ],
      },
    })]);
    const gateway = await eventually(async () => {
      const d = await cluster.get(`${ns}/deployments/demo-gateway`);
      return d.spec.template.spec.containers[0].image === 'ghcr.io/chorus-chat/chorus:0.2.0' && d;
    }, 10_000, 'new gateway image');
    const worker = await cluster.get(`${ns}/deployments/demo-message-service`);
    assert.equal(worker.spec.template.spec.containers[0].image, 'ghcr.io/chorus-chat/chorus:0.2.0');
    // Still serving on the old pods, but the new spec is not rolled out yet.
    await eventually(async () => {
      const c = await cluster.get('/apis/chorus.dev/v1alpha1/namespaces/default/chatclusters/demo');
      const progressing = c.status.conditions.find((x: any) => x.type === 'Progressing');
      return progressing.status === 'True' && /updating gateway, message-service/.test(progressing.message) && c.status.observedGeneration === 2;
    }, 10_000, 'Progressing=True while the new version rolls out');
    assert.equal((await cluster.get(`${core}/configmaps/demo-config`)).data.LOG_LEVEL, 'debug');
    assert.ok(gateway.spec.template.metadata.annotations['chorus.dev/config-hash'], 'config hash rolls pods on config change');
    await eventually(async () => (await cluster.get(`${ns}/deployments/demo-loadtest`)) === undefined, 10_000, 'load-test Deployment pruned');
    await eventually(async () => !(await cluster.get('/apis/batch/v1/namespaces/default/jobs')).items.some((j: any) => j.metadata.name.startsWith('demo-loadtest-')), 10_000, 'load-test Job pruned');

    await cluster.kc(['scale', 'chat', 'demo', '--replicas=4']);
    await eventually(async () => (await cluster.get(`${ns}/deployments/demo-gateway`)).spec.replicas === 4, 10_000, 'gateway scaled to 4');
    const cr = await eventually(async () => {
      const c = await cluster.get('/apis/chorus.dev/v1alpha1/namespaces/default/chatclusters/demo');
      return c.status.observedGeneration === c.metadata.generation && c;
    }, 10_000, 'observedGeneration');
    assert.equal(cr.status.conditions.find((x: any) => x.type === 'Ready').status, 'False'); // 2 of 4 gateways ready
  });

  test('drift: a deleted child comes back, a hand-edited one is put back', async () => {
    const before = await cluster.get(`${ns}/deployments/demo-gateway`);
    await cluster.kc(['delete', 'deployment', 'demo-gateway', '--wait=false']);
    const back = await eventually(async () => {
      const d = await cluster.get(`${ns}/deployments/demo-gateway`);
      return d && d.metadata.uid !== before.metadata.uid && d;
    }, 10_000, 'gateway Deployment re-created');
    assert.equal(back.spec.replicas, 4);
    await cluster.kc(['delete', 'service', 'demo-nats', '--wait=false']);
    await eventually(async () => cluster.get(`${core}/services/demo-nats`), 10_000, 'NATS Service re-created');

    await cluster.kc(['set', 'image', 'deployment/demo-message-service', 'message-service=evil:latest']);
    await cluster.kc(['patch', 'configmap', 'demo-config', '--type=merge', '-p', '{"data":{"NATS_URL":"nats://elsewhere:4222"}}']);
    await eventually(async () => (await cluster.get(`${ns}/deployments/demo-message-service`)).spec.template.spec.containers[0].image === 'ghcr.io/chorus-chat/chorus:0.2.0', 10_000, 'image restored');
    await eventually(async () => (await cluster.get(`${core}/configmaps/demo-config`)).data.NATS_URL === 'nats://demo-nats.default.svc:4222', 10_000, 'config restored');
    // The token Secret is created once and kept: re-creating it would log everybody out.
    const secret = await cluster.get(`${core}/secrets/demo-token`);
    await sleep(300);
    assert.equal((await cluster.get(`${core}/secrets/demo-token`)).data.CHORUS_TOKEN_SECRET, secret.data.CHORUS_TOKEN_SECRET);
  });

  test('a storage size change keeps the StatefulSet applying and warns (claim templates are immutable)', async () => {
    await cluster.kc(['patch', 'chat', 'demo', '--type=merge', '-p', JSON.stringify({ spec: { nats: { storageSize: '5Gi', image: 'nats:2.12.1-alpine' } } })]);
    const sts = await eventually(async () => {
      const s = await cluster.get(`${ns}/statefulsets/demo-nats`);
      return s.spec.template.spec.containers[0].image === 'nats:2.12.1-alpine' && s;
    }, 10_000, 'the other NATS changes applied');
    assert.equal(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '2Gi');
    await eventually(async () => {
      const events = JSON.parse(await cluster.kc(['get', 'events', '--field-selector', 'involvedObject.name=demo,reason=ImmutableFieldKept', '-o', 'json'])).items;
      return events.some((e: any) => /storage stays 2Gi \(asked for 5Gi\)/.test(e.message));
    }, 10_000, 'ImmutableFieldKept event');
    const cr = await cluster.get('/apis/chorus.dev/v1alpha1/namespaces/default/chatclusters/demo');
    assert.equal(cr.status.conditions.find((x: any) => x.type === 'Degraded').status, 'False');
  });

  test('an invalid ChatCluster is refused by the schema with a clear message', async () => {
    const bad = (spec: object) => `apiVersion: chorus.dev/v1alpha1\nkind: ChatCluster\nmetadata: {name: bad}\nspec: ${JSON.stringify(spec)}\n`;
    const minMax = await cluster.kubectl(['apply', '-f', '-'], bad({ messageService: { minReplicas: 5, maxReplicas: 2 } }));
    assert.notEqual(minMax.code, 0);
    assert.match(minMax.stderr, /messageService.minReplicas must be less than or equal to messageService.maxReplicas/);
    const bounds = await cluster.kubectl(['apply', '-f', '-'], bad({ batching: { bounds: { minBatchSize: 900, maxBatchSize: 100 } } }));
    assert.match(bounds.stderr, /batching.bounds.minBatchSize must be less than or equal to batching.bounds.maxBatchSize/);
    const nats = await cluster.kubectl(['apply', '-f', '-'], bad({ nats: { replicas: 2 }, batching: { mode: 'turbo' } }));
    assert.match(nats.stderr, /spec.nats.replicas: Unsupported value: 2/);
    assert.match(nats.stderr, /spec.batching.mode: Unsupported value: "turbo"/);
    assert.equal(await cluster.get('/apis/chorus.dev/v1alpha1/namespaces/default/chatclusters/bad'), undefined);
    const longName = await cluster.kubectl(['apply', '-f', '-'], `apiVersion: chorus.dev/v1alpha1\nkind: ChatCluster\nmetadata: {name: ${'x'.repeat(41)}}\nspec: {}\n`);
    assert.match(longName.stderr, /metadata.name must start with a letter.*at most 40 characters/);
    const digit = await cluster.kubectl(['apply', '-f', '-'], 'apiVersion: chorus.dev/v1alpha1\nkind: ChatCluster\nmetadata: {name: 1chat}\nspec: {}\n');
    assert.match(digit.stderr, /metadata.name must start with a letter/);
    const devAndIdp = await cluster.kubectl(['apply', '-f', '-'], bad({ gateway: { auth: { devLogin: true, jwksUrl: 'https://idp.example/jwks' } } }));
    assert.match(devAndIdp.stderr, /gateway.auth.jwksUrl and gateway.auth.hs256SecretRef do not apply with gateway.auth.devLogin/);
    const plainJwks = await cluster.kubectl(['apply', '-f', '-'], bad({ gateway: { auth: { jwksUrl: 'http://idp.example/jwks', allowedOrigins: ['*'] } } }));
    assert.match(plainJwks.stderr, /spec.gateway.auth.jwksUrl/);
    assert.match(plainJwks.stderr, /spec.gateway.auth.allowedOrigins\[0\]/);
    const loadWithoutDev = await cluster.kubectl(['apply', '-f', '-'], bad({ loadtest: { enabled: true } }));
    assert.match(loadWithoutDev.stderr, /loadtest.enabled needs gateway.auth.devLogin true/);
    assert.equal(await cluster.get('/apis/chorus.dev/v1alpha1/namespaces/default/chatclusters/bad'), undefined);
  });

  test('what the schema cannot check (a missing external MongoDB Secret) is reported in status', async () => {
    await cluster.kc(['apply', '-f', '-'], 'apiVersion: chorus.dev/v1alpha1\nkind: ChatCluster\nmetadata: {name: ext}\nspec: {mongodb: {external: {uriSecretRef: {name: mongo-uri}}}}\n');
    const cr = await eventually(async () => {
      const c = await cluster.get('/apis/chorus.dev/v1alpha1/namespaces/default/chatclusters/ext');
      return c?.status?.conditions?.find((x: any) => x.type === 'Degraded' && x.status === 'True') && c;
    }, 10_000, 'Degraded=True');
    const degraded = cr.status.conditions.find((x: any) => x.type === 'Degraded');
    assert.equal(degraded.reason, 'InvalidReference');
    assert.match(degraded.message, /Secret mongo-uri not found/);
    // No in-cluster MongoDB for an external one; the worker reads the URI from the Secret.
    assert.equal(await cluster.get(`${ns}/statefulsets/ext-mongodb`), undefined);
    const worker = await cluster.get(`${ns}/deployments/ext-message-service`);
    assert.deepEqual(worker.spec.template.spec.containers[0].env.find((e: any) => e.name === 'MONGODB_URI').valueFrom.secretKeyRef, { name: 'mongo-uri', key: 'uri' });
    await cluster.kc(['create', 'secret', 'generic', 'mongo-uri', '--from-literal=uri=mongodb://db.example:27017']);
    await eventually(async () => {
      const c = await cluster.get('/apis/chorus.dev/v1alpha1/namespaces/default/chatclusters/ext');
      return c.status.conditions.find((x: any) => x.type === 'Degraded').status === 'False';
    }, 15_000, 'Degraded=False once the Secret exists');
  });

  test('a backend HS256 Secret that does not exist (or lacks the key) is reported in status; the gateways read the key from it', async () => {
    await cluster.kc(['apply', '-f', '-'], 'apiVersion: chorus.dev/v1alpha1\nkind: ChatCluster\nmetadata: {name: idp}\nspec: {gateway: {auth: {hs256SecretRef: {name: backend-jwt}, issuer: https://app.example, audience: chat}}}\n');
    const degradedWith = async (pattern: RegExp) =>
      eventually(async () => {
        const c = await cluster.get('/apis/chorus.dev/v1alpha1/namespaces/default/chatclusters/idp');
        const degraded = c?.status?.conditions?.find((x: any) => x.type === 'Degraded' && x.status === 'True');
        return degraded && pattern.test(degraded.message) ? degraded : undefined;
      }, 10_000, `Degraded=True matching ${pattern}`);
    assert.equal((await degradedWith(/spec.gateway.auth.hs256SecretRef: Secret backend-jwt not found/)).reason, 'InvalidReference');
    await cluster.kc(['create', 'secret', 'generic', 'backend-jwt', '--from-literal=other=x']);
    await degradedWith(/Secret backend-jwt has no key secret/);
    await cluster.kc(['patch', 'secret', 'backend-jwt', '--type=merge', '-p', JSON.stringify({ stringData: { secret: 'a'.repeat(40) } })]);
    await eventually(async () => {
      const c = await cluster.get('/apis/chorus.dev/v1alpha1/namespaces/default/chatclusters/idp');
      return c.status.conditions.find((x: any) => x.type === 'Degraded').status === 'False';
    }, 15_000, 'Degraded=False once the Secret has the key');
    const gateway = await cluster.get(`${ns}/deployments/idp-gateway`);
    const env = gateway.spec.template.spec.containers[0].env;
    assert.equal(env.find((e: any) => e.name === 'AUTH_MODE').value, 'jwt');
    assert.deepEqual(env.find((e: any) => e.name === 'AUTH_HS256_SECRET').valueFrom.secretKeyRef, { name: 'backend-jwt', key: 'secret' });
    assert.equal(env.find((e: any) => e.name === 'AUTH_ISSUER').value, 'https://app.example');
  });

  test('spec.size: the API server keeps the preset fields undefaulted, the preset sizes the children, a written field wins, kubectl get shows the size', async () => {
    await cluster.kc(['apply', '-f', '-'], 'apiVersion: chorus.dev/v1alpha1\nkind: ChatCluster\nmetadata: {name: sized}\nspec: {size: 10k, messageService: {maxReplicas: 9}}\n');
    const stored = await cluster.get('/apis/chorus.dev/v1alpha1/namespaces/default/chatclusters/sized');
    assert.equal(stored.spec.gateway.replicas, undefined, 'no server-side default over the preset');
    const gateway = await eventually(async () => cluster.get(`${ns}/deployments/sized-gateway`), 10_000, 'sized gateway Deployment');
    assert.equal(gateway.spec.replicas, 3);
    assert.deepEqual(gateway.spec.template.spec.containers[0].resources, { requests: { cpu: '1', memory: '256Mi' }, limits: { memory: '512Mi' } });
    // Children are applied one by one: wait for each rather than assume the gateway came last.
    assert.equal((await eventually(async () => cluster.get(`${ns}/statefulsets/sized-nats`), 10_000, 'sized NATS')).spec.replicas, 3);
    const worker = await eventually(async () => cluster.get(`${ns}/deployments/sized-message-service`), 10_000, 'sized message-service');
    assert.equal(worker.spec.replicas, 2, 'the preset minReplicas');
    await eventually(async () => /sized\s+False\s+10k\s+0\.1\.0\s+RollingOut/.test(await cluster.kc(['get', 'chat', 'sized'])), 10_000, 'SIZE column');
    await cluster.kc(['delete', 'chat', 'sized']);
  });

  test('health, readiness and metrics endpoints', async () => {
    const base = `http://127.0.0.1:${operator.healthPort}`;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /chorus_operator_reconcile_total\{result="success"\} [1-9]/);
    assert.match(metrics, /chorus_operator_applied_objects_total\{kind="Deployment"\} [1-9]/);
  });

  test('watches keep delivering after more than 60 s, re-watching without relists or errors', { timeout: 90_000 }, async () => {
    const wait = startedAt + 65_000 - Date.now();
    if (wait > 0) await sleep(wait);
    const before = await cluster.get(`${ns}/deployments/demo-message-service`);
    await cluster.kc(['delete', 'deployment', 'demo-message-service', '--wait=false']);
    await eventually(async () => {
      const d = await cluster.get(`${ns}/deployments/demo-message-service`);
      return d && d.metadata.uid !== before.metadata.uid;
    }, 5_000, 'a child deleted after 65 s is re-created promptly');
    for (const informer of operator.manager!.informers) {
      assert.equal(informer.stats.errors, errorsAtSync.get(informer.kind.kind), `${informer.kind.kind} watch errors`);
      assert.equal(informer.stats.lists, 1, `${informer.kind.kind} relisted`);
      // watch-timeout-seconds 20: the server ended each watch at least twice and it resumed.
      assert.ok(informer.stats.watches >= 3, `${informer.kind.kind} watches: ${informer.stats.watches}`);
    }
    // The CRD file is what users apply; keep the example valid YAML that names our kind.
    assert.match(readFileSync(examplePath, 'utf8'), /kind: ChatCluster/);
  });
});
