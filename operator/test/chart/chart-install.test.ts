import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { kubectl } from '@chorus/local/servers/kubectl';
import { startKubeApiServer, type RunningKubeApiServer } from '@chorus/local/servers/kube-apiserver';
import { freePort } from '@chorus/local/servers/free-port';
import { httpReady, ManagedProcess } from '@chorus/local/servers/managed-process';
import { eventually, examplePath, repoRoot } from '../integration/harness.js';
import { chartDir, ciValuesFiles, createHelm, type Helm } from './helm.js';

const ns = 'chorus';

function restrictedNamespace(name: string) {
  const labels = Object.fromEntries(['enforce', 'warn'].map((mode) => [`pod-security.kubernetes.io/${mode}`, 'restricted']));
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}
const full = join(chartDir, 'ci', 'full-values.yaml');

/**
 * The chart against a real kube-apiserver + etcd with the real helm and kubectl (one API server for
 * the whole file): install, server-side dry-run of every ci values file, the operator, running
 * with the chart's ServiceAccount token and the chart's env, reconciling the chart's ChatCluster,
 * upgrade and uninstall. No kubelet runs, so pods never start; what is checked is what the API
 * server stores and authorizes.
 */
describe('helm chart against a real API server', { timeout: 240_000 }, () => {
  let kube: RunningKubeApiServer;
  let helm: Helm;
  let dir: string;
  let operatorProcess: ManagedProcess | undefined;
  const kc = async (args: string[], input?: string) => {
    const result = await kubectl(kube.kubeconfigPath, args, input);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    return result.stdout;
  };
  const get = async (path: string) => {
    const response = await kube.request('GET', path);
    return response.status === 200 ? response.body : undefined;
  };
  const apps = `/apis/apps/v1/namespaces/${ns}`;
  const core = `/api/v1/namespaces/${ns}`;
  const chat = `/apis/chorus.dev/v1alpha1/namespaces/${ns}/chatclusters/chat`;
  /** `kubectl auth can-i` as a ServiceAccount (the admin may impersonate). */
  const can = async (sa: string, args: string[]) => (await kubectl(kube.kubeconfigPath, ['auth', 'can-i', ...args, `--as=system:serviceaccount:${sa}`])).stdout.trim();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chorus-chart-'));
    // As on clusters that enforce it (e.g. OpenShift): setting blockOwnerDeletion on a child needs
    // `update` on chatclusters/finalizers, which the chart's RBAC must grant.
    kube = await startKubeApiServer({ dataDir: dir, extraArgs: ['--enable-admission-plugins=OwnerReferencesPermissionEnforcement'] });
    helm = createHelm(kube.kubeconfigPath);
  });

  after(async () => {
    await operatorProcess?.stop();
    helm?.cleanup();
    await kube?.stop();
    if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  });

  test('helm install creates the CRD, then the operator objects, the ChatCluster, Jaeger, Ingress and the operator NetworkPolicy', async () => {
    // The namespace enforces the "restricted" Pod Security Standard, as docs/kubernetes.md suggests.
    await kc(['apply', '-f', '-'], JSON.stringify(restrictedNamespace(ns)));
    const out = await helm.ok(['install', 'chorus', chartDir, '-n', ns, '-f', full, '--timeout', '60s']);
    assert.match(out, /STATUS: deployed/);
    assert.match(out, /kubectl -n chorus get chatclusters -w/, 'NOTES.txt');
    assert.match(out, /port-forward svc\/chorus-jaeger 16686:16686/, 'NOTES.txt: the tracing UI');

    const crd = await get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/chatclusters.chorus.dev');
    assert.ok(crd, 'helm installed the CRD from the chart crds/ folder');
    assert.deepEqual(crd.spec.versions.map((v: any) => v.name), ['v1alpha1']);
    assert.equal(crd.status.conditions.find((c: any) => c.type === 'Established')?.status, 'True');

    const deployment = await get(`${apps}/deployments/chorus-operator`);
    assert.equal(deployment.spec.replicas, 2);
    assert.equal(deployment.spec.template.spec.serviceAccountName, 'chorus-operator');
    assert.equal(deployment.spec.template.spec.securityContext.runAsNonRoot, true);
    assert.equal(deployment.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem, true);
    for (const path of [
      `${core}/serviceaccounts/chorus-operator`,
      '/apis/rbac.authorization.k8s.io/v1/clusterroles/chorus-operator',
      '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/chorus-operator',
      `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles/chorus-operator-leader-election`,
      `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings/chorus-operator-leader-election`,
      `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/chorus-operator`,
      `${apps}/deployments/chorus-jaeger`,
      `${core}/services/chorus-jaeger`,
      `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/chat-gateway-ingress`,
      `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/chorus-operator`,
      chat,
    ]) {
      assert.ok(await get(path), `${path} exists`);
    }
    const cr = await get(chat);
    assert.equal(cr.spec.tracing.otlpEndpoint, 'http://chorus-jaeger.chorus.svc:4318');
    assert.equal(cr.spec.batching.bounds.maxBatchSize, 1000, 'the CRD defaulted the spec');
    assert.match(await helm.ok(['list', '-n', ns]), /chorus\s+chorus\s+1\s+.*deployed\s+chorus-0\.1\.0\s+0\.1\.0/);
  });

  test('the rendered manifests of every ci values file pass kubectl apply --dry-run=server', async () => {
    // Pod Security admission enforces "restricted" on Pods and warns about workload templates that break it.
    await kc(['apply', '-f', '-'], JSON.stringify(restrictedNamespace('dry')));
    for (const file of ciValuesFiles) {
      const release = `dry-${basename(file, '-values.yaml')}`;
      const manifests = await helm.ok(['template', release, chartDir, '-n', 'dry', '-f', file]);
      const result = await kubectl(kube.kubeconfigPath, ['apply', '--dry-run=server', '-f', '-'], manifests);
      assert.equal(result.code, 0, `${basename(file)}: ${result.stderr}`);
      assert.doesNotMatch(result.stderr, /PodSecurity/, `${basename(file)}: every pod meets the restricted standard`);
      assert.match(result.stdout, /deployment.apps\/.*-operator created \(server dry run\)/, basename(file));
      if (manifests.includes('kind: ChatCluster')) assert.match(result.stdout, /chatcluster.chorus.dev\/\S+ created \(server dry run\)/);
    }
    // Dry runs store nothing.
    assert.equal((await get('/apis/apps/v1/namespaces/dry/deployments')).items.length, 0);
  });

  test('the ServiceAccount gets exactly the operator permissions (cluster-wide) and nothing more', async () => {
    const sa = `${ns}:chorus-operator`;
    const expectations: [string[], 'yes' | 'no'][] = [
      [['watch', 'chatclusters.chorus.dev', '-A'], 'yes'],
      [['patch', 'chatclusters.chorus.dev', '--subresource=status', '-n', 'anywhere'], 'yes'],
      [['update', 'chatclusters.chorus.dev', '--subresource=finalizers', '-n', 'anywhere'], 'yes'],
      [['patch', 'deployments.apps', '-n', 'anywhere'], 'yes'],
      [['create', 'secrets', '-n', 'anywhere'], 'yes'],
      [['create', 'events', '-n', 'anywhere'], 'yes'],
      [['update', 'leases.coordination.k8s.io', '-n', ns], 'yes'],
      [['update', 'leases.coordination.k8s.io', '-n', 'default'], 'no'],
      [['update', 'chatclusters.chorus.dev', '-n', ns], 'no'],
      [['delete', 'chatclusters.chorus.dev', '-n', ns], 'no'],
      [['get', 'pods', '-n', ns], 'no'],
      [['create', 'pods', '-n', ns], 'no'],
      [['update', 'deployments.apps', '-n', ns], 'no'],
      [['get', 'customresourcedefinitions.apiextensions.k8s.io'], 'no'],
      [['create', 'clusterroles.rbac.authorization.k8s.io'], 'no'],
    ];
    for (const [args, answer] of expectations) assert.equal(await can(sa, args), answer, `can-i ${args.join(' ')}`);
  });

  test('the operator, run as a process with the chart command, env and ServiceAccount token, reconciles the chart ChatCluster into children', async () => {
    // A token for the chart's ServiceAccount, as the kubelet would mount it.
    const tokenRequest = await kube.request('POST', `${core}/serviceaccounts/chorus-operator/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    });
    assert.equal(tokenRequest.status, 201, JSON.stringify(tokenRequest.body));
    const kubeconfig = kube.writeKubeconfig('chorus-operator', tokenRequest.body.status.token);
    // The chart's container: its command from /app (the repository root here) and its env, as the pod
    // would see it (fieldRefs resolved). Only what a pod gets from the kubelet differs: the kubeconfig
    // instead of the mounted token, probes on 127.0.0.1 and a free port. No NATS here, so no autopilot.
    const deployment = await get(`${apps}/deployments/chorus-operator`);
    const container = deployment.spec.template.spec.containers[0];
    const identity = 'chorus-operator-7d9f-abcde';
    const fieldRefs: Record<string, string> = { 'metadata.name': identity, 'metadata.namespace': ns };
    const env = Object.fromEntries(
      container.env.map((e: any) => [e.name, e.valueFrom ? fieldRefs[e.valueFrom.fieldRef.fieldPath] : (e.value ?? '')]),
    );
    const healthPort = await freePort();
    assert.equal(container.command[0], 'node');
    operatorProcess = new ManagedProcess({
      name: 'chorus-operator',
      command: process.execPath,
      args: container.command.slice(1),
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        ...env,
        KUBECONFIG: kubeconfig,
        CHORUS_OPERATOR_HEALTH_HOST: '127.0.0.1',
        CHORUS_OPERATOR_HEALTH_PORT: String(healthPort),
        CHORUS_OPERATOR_AUTOPILOT: 'false',
        CHORUS_OPERATOR_RETRY_PERIOD_MS: '300',
      },
      logFile: join(dir, 'operator.log'),
      ready: httpReady(healthPort, container.readinessProbe.httpGet.path),
    });
    await operatorProcess.start();

    const lease = await eventually(async () => {
      const l = await get(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/chorus-operator`);
      return l?.spec?.holderIdentity === identity ? l : undefined;
    }, 15_000, 'the operator to take the Lease');
    assert.ok(lease.spec.renewTime);

    const expected = [
      `${apps}/deployments/chat-gateway`,
      `${apps}/deployments/chat-message-service`,
      `${apps}/deployments/chat-loadtest`,
      `${apps}/statefulsets/chat-nats`,
      `${apps}/statefulsets/chat-redis`,
      `${apps}/statefulsets/chat-mongodb`,
      `${core}/services/chat-gateway`,
      `${core}/services/chat-nats`,
      `${core}/configmaps/chat-config`,
      `${core}/secrets/chat-token`,
    ];
    const cr = await get(chat);
    const children = await eventually(async () => {
      const all = await Promise.all(expected.map((path) => get(path)));
      return all.every(Boolean) ? all : undefined;
    }, 30_000, 'the ChatCluster children');
    for (const child of children) assert.equal(child.metadata.ownerReferences[0].uid, cr.metadata.uid, `${child.metadata.name} is owned by the chart's ChatCluster`);
    assert.equal(children[0].spec.replicas, 3, 'gateway replicas from the chart values');
    assert.equal(children[0].spec.template.spec.containers[0].image, 'ghcr.io/chorus-chat/chorus:0.1.0');
    const config0 = children.find((c) => c.metadata.name === 'chat-config');
    assert.equal(config0.data.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://chorus-jaeger.chorus.svc:4318', 'traces go to the chart Jaeger');
    // The Jobs may be applied after the other children: wait for them too.
    await eventually(async () => {
      const jobs = (await get(`/apis/batch/v1/namespaces/${ns}/jobs`)).items;
      return jobs.some((j: any) => j.metadata.name.startsWith('chat-loadtest-')) ? true : undefined;
    }, 30_000, 'the load-test Job');

    // Status and Events were written, and no list/watch was refused: the chart's RBAC is enough.
    const withStatus = await eventually(async () => {
      const c = await get(chat);
      return c?.status?.observedGeneration === c?.metadata.generation ? c : undefined;
    }, 15_000, 'status.observedGeneration');
    assert.equal(withStatus.status.conditions.find((c: any) => c.type === 'Degraded')?.status, 'False');
    await eventually(async () => {
      const list = (await get(`${core}/events`)).items.filter((e: any) => e.involvedObject.name === 'chat');
      return list.some((e: any) => e.reason === 'Created');
    }, 10_000, 'a Created event');
    // The operator publishes its per-kind list/watch error counts every 5 s.
    const metrics = await eventually(async () => {
      const text = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
      return text.includes('chorus_operator_watch_errors{') ? text : undefined;
    }, 10_000, 'watch error gauges on /metrics');
    assert.match(metrics, /^chorus_operator_is_leader 1$/m);
    const watchErrors = [...metrics.matchAll(/^chorus_operator_watch_errors\{kind="(\w+)"\} (\d+)$/gm)];
    assert.equal(watchErrors.length, 10, 'ChatCluster and the 9 child kinds');
    for (const [, kind, count] of watchErrors) assert.equal(count, '0', `${kind} list/watch errors`);
    assert.doesNotMatch(readFileSync(join(dir, 'operator.log'), 'utf8'), /forbidden/i);
    assert.match(await kc(['get', 'chatclusters', '-n', ns]), /chat\s+False\s+\S+\s+RollingOut\s+0\/3/);
    // The platform's workloads meet the namespace's "restricted" Pod Security Standard too.
    const workloads = await kc(['get', 'deployments,statefulsets,jobs', '-n', ns, '-l', 'app.kubernetes.io/instance=chat', '-o', 'json']);
    const replay = await kubectl(kube.kubeconfigPath, ['apply', '--dry-run=server', '--server-side', '--force-conflicts', '-f', '-'], workloads);
    assert.equal(replay.code, 0, replay.stderr);
    assert.doesNotMatch(replay.stderr, /PodSecurity/);
  });

  test('helm test creates the load-test smoke pod through the chart gateway (no kubelet here, so it cannot finish)', async () => {
    const result = await helm.run(['test', 'chorus', '-n', ns, '--timeout', '3s']);
    assert.notEqual(result.code, 0, 'no pod can run without a kubelet');
    const pod = await get(`${core}/pods/chorus-loadtest-smoke`);
    assert.ok(pod, 'the test hook pod was created');
    assert.deepEqual(pod.spec.containers[0].command.slice(0, 5), ['node', 'loadtest/dist/src/cli.js', 'steady', '--gateway', 'http://chat-gateway:8080']);
  });

  test('helm upgrade applies changed values: operator replicas, the ChatCluster spec (reconciled), optional parts removed', async () => {
    const before = await get(chat);
    await helm.ok([
      'upgrade', 'chorus', chartDir, '-n', ns, '-f', full,
      '--set', 'operator.replicas=3',
      '--set', 'chatCluster.spec.gateway.replicas=4',
      '--set', 'tracing.jaeger.enabled=false',
      '--set', 'networkPolicy.enabled=false',
      '--set', 'ingress.timeoutSeconds=7200',
    ]);
    assert.equal((await get(`${apps}/deployments/chorus-operator`)).spec.replicas, 3);
    const cr = await get(chat);
    assert.equal(cr.metadata.uid, before.metadata.uid, 'the same ChatCluster, updated in place');
    assert.equal(cr.spec.gateway.replicas, 4);
    assert.equal(cr.spec.tracing?.otlpEndpoint, undefined, 'tracing endpoint removed with Jaeger');
    assert.equal(await get(`${apps}/deployments/chorus-jaeger`), undefined);
    assert.equal(await get(`/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/chorus-operator`), undefined);
    const ingress = await get(`/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/chat-gateway-ingress`);
    assert.equal(ingress.metadata.annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'], '7200');
    // The running operator follows the new spec.
    await eventually(async () => (await get(`${apps}/deployments/chat-gateway`))?.spec.replicas === 4, 15_000, 'gateway scaled to 4');
    await eventually(async () => (await get(`${core}/configmaps/chat-config`))?.data.OTEL_EXPORTER_OTLP_ENDPOINT === undefined, 15_000, 'tracing env removed');
    assert.match(await helm.ok(['history', 'chorus', '-n', ns]), /\n2\s+.*deployed\s+chorus-0\.1\.0\s+0\.1\.0\s+Upgrade complete/);
    // A bad value is refused before anything changes.
    const refused = await helm.run(['upgrade', 'chorus', chartDir, '-n', ns, '--reuse-values', '--set', 'operator.replicas=many']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /\/operator\/replicas/);
    assert.equal((await get(`${apps}/deployments/chorus-operator`)).spec.replicas, 3);
  });

  test('helm uninstall removes the release but keeps the CRD and ChatClusters it did not create', async () => {
    // SIGTERM, as on a rolling update: the leader releases its Lease so a standby takes over at once.
    await operatorProcess?.stop();
    operatorProcess = undefined;
    const lease = await get(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/chorus-operator`);
    assert.equal(lease.spec.holderIdentity ?? '', '', 'the Lease was released on SIGTERM');
    // A ChatCluster made with kubectl, outside the release.
    await kc(['apply', '-n', 'default', '-f', examplePath]);
    const out = await helm.ok(['uninstall', 'chorus', '-n', ns]);
    assert.match(out, /release "chorus" uninstalled/);
    for (const path of [
      `${apps}/deployments/chorus-operator`,
      '/apis/rbac.authorization.k8s.io/v1/clusterroles/chorus-operator',
      '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/chorus-operator',
      `${core}/serviceaccounts/chorus-operator`,
      `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/chorus-operator`,
      `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/chat-gateway-ingress`,
      chat,
    ]) {
      assert.equal(await get(path), undefined, `${path} is gone`);
    }
    assert.ok(await get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/chatclusters.chorus.dev'), 'the CRD is kept (helm never deletes crds/)');
    assert.ok(await get('/apis/chorus.dev/v1alpha1/namespaces/default/chatclusters/demo'), 'other ChatClusters are kept');
    assert.doesNotMatch(await helm.ok(['list', '-A']), /chorus\s+chorus/);
  });

  test('namespaced mode: a Role in the watched namespace only, the namespace passed to the operator', async () => {
    await helm.ok(['install', 'team', chartDir, '-n', 'team-a', '--create-namespace', '-f', join(chartDir, 'ci', 'namespaced-values.yaml')]);
    assert.equal(await get('/apis/rbac.authorization.k8s.io/v1/clusterroles/team-chorus-operator'), undefined);
    const env = (await get('/apis/apps/v1/namespaces/team-a/deployments/team-chorus-operator')).spec.template.spec.containers[0].env;
    assert.equal(env.find((e: any) => e.name === 'CHORUS_OPERATOR_NAMESPACE').value, 'team-a');
    const sa = 'team-a:team-chorus-operator';
    assert.equal(await can(sa, ['watch', 'chatclusters.chorus.dev', '-n', 'team-a']), 'yes');
    assert.equal(await can(sa, ['patch', 'statefulsets.apps', '-n', 'team-a']), 'yes');
    assert.equal(await can(sa, ['watch', 'chatclusters.chorus.dev', '-n', 'default']), 'no');
    assert.equal(await can(sa, ['watch', 'chatclusters.chorus.dev', '-A']), 'no');
    assert.equal(await can(sa, ['update', 'leases.coordination.k8s.io', '-n', 'team-a']), 'no', 'no Lease rights without leader election');
  });
});
