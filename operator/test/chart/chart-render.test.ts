import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { crdPath, repoRoot } from '../integration/harness.js';
import { chartDir, ciValuesFiles, createHelm, find, podSpecs } from './helm.js';

/**
 * The chart with the real helm and no cluster: lint and template of every ci/*-values.yaml, the
 * schema refusing bad values with a message naming the field, and what the rendered objects must
 * hold (restricted pods, least-privilege RBAC, the optional parts wired together).
 */
/** The ClusterRole in docs/operator.md's RBAC section, as "group/resource:verb" pairs. */
function documentedRbac(): Set<string> {
  const doc = readFileSync(join(repoRoot, 'docs', 'operator.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## RBAC'));
  const block = /```yaml\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'docs/operator.md has an RBAC yaml block');
  const role = parse(block[1]!) as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
  return new Set(role.rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}:${v}`)))));
}

describe('helm chart renders', { timeout: 120_000 }, () => {
  const helm = createHelm();
  const scratch = mkdtempSync(join(tmpdir(), 'chorus-chart-render-'));
  after(() => {
    helm.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('the chart CRD is byte-for-byte the repository CRD', () => {
    assert.ok(readFileSync(join(chartDir, 'crds', 'chatcluster.yaml')).equals(readFileSync(crdPath)), 'charts/chorus/crds/chatcluster.yaml differs from crds/chatcluster.yaml: copy it over');
  });

  test('there are ci values files for the main combinations', () => {
    assert.deepEqual(ciValuesFiles.map((f) => basename(f)), ['chatcluster-values.yaml', 'default-values.yaml', 'full-values.yaml', 'namespaced-values.yaml']);
  });

  for (const file of ciValuesFiles) {
    test(`helm lint --strict and helm template pass with ${basename(file)}`, async () => {
      const lint = await helm.run(['lint', chartDir, '--strict', '-f', file]);
      assert.equal(lint.code, 0, lint.stdout + lint.stderr);
      assert.match(lint.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      const objects = await helm.template(['-f', file]);
      find(objects, 'Deployment', 'chorus-operator');
      find(objects, 'ServiceAccount', 'chorus-operator');
      // Every pod the chart renders meets the "restricted" Pod Security Standard and has resources.
      for (const { owner, spec } of podSpecs(objects)) {
        assert.equal(spec.securityContext?.runAsNonRoot, true, `${owner} runAsNonRoot`);
        assert.ok(spec.securityContext?.runAsUser > 0, `${owner} runAsUser`);
        assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${owner} seccomp`);
        for (const c of spec.containers) {
          assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${owner}/${c.name} allowPrivilegeEscalation`);
          assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${owner}/${c.name} readOnlyRootFilesystem`);
          assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], `${owner}/${c.name} capabilities`);
          assert.ok(c.resources?.requests?.cpu && c.resources?.limits?.memory, `${owner}/${c.name} resources`);
        }
      }
    });
  }

  test('the chart declares kubeVersion: helm refuses a cluster older than 1.27', async () => {
    const old = await helm.run(['template', 'chorus', chartDir, '--kube-version', '1.26.5']);
    assert.notEqual(old.code, 0);
    assert.match(old.stderr, /chart requires kubeVersion: >=1\.27\.0-0/);
    const current = await helm.run(['template', 'chorus', chartDir, '--kube-version', '1.34.4']);
    assert.equal(current.code, 0, current.stderr);
  });

  test('a bad values file is refused by the schema with a message naming the fields', async () => {
    const bad = join(scratch, 'bad-values.yaml');
    writeFileSync(bad, 'operator:\n  replicas: "two"\nrbac:\n  namespaced: yes-please\nreplicaCount: 2\n');
    const result = await helm.run(['template', 'chorus', chartDir, '-f', bad]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /values don't meet the specifications of the schema/);
    assert.match(result.stderr, /\/operator\/replicas'?: got string, want integer/);
    assert.match(result.stderr, /\/rbac\/namespaced'?: got string, want boolean/);
    assert.match(result.stderr, /additional properties 'replicaCount' not allowed/);
    const lint = await helm.run(['lint', chartDir, '-f', bad]);
    assert.notEqual(lint.code, 0, 'helm lint refuses it too');
  });

  test('the schema refuses out-of-range and unknown nested values, and combinations that cannot work', async () => {
    const cases: [string[], RegExp][] = [
      [['--set', 'operator.runAsUser=0'], /\/operator\/runAsUser'?: minimum: got 0, want 1/],
      [['--set', 'image.pullPolicy=Sometimes'], /\/image\/pullPolicy'?: value must be one of 'Always', 'IfNotPresent', 'Never'/],
      [['--set', 'chatCluster.spec.gatway.replicas=1'], /additional properties 'gatway' not allowed/],
      [['--set', 'tests.loadtest.duration=ten'], /\/tests\/loadtest\/duration/],
      [['--set', 'operator.replicas=3', '--set', 'operator.leaderElection.enabled=false'], /\/operator\/replicas'?: maximum: got 3, want 1/],
      [['--set', 'ingress.enabled=true'], /set chatCluster.create: true/],
      [['--set', 'chatCluster.name=1chat'], /\/chatCluster\/name'?: '1chat' does not match pattern/],
      [['--set', `chatCluster.name=${'c'.repeat(41)}`], /\/chatCluster\/name'?: maxLength: got 41, want 40/],
      [['--set', 'rbac.namespaced=true', '--set', 'rbac.watchNamespace=other', '--set', 'chatCluster.create=true'], /makes the operator watch only that namespace/],
    ];
    for (const [args, message] of cases) {
      const result = await helm.run(['template', 'chorus', chartDir, ...args]);
      assert.notEqual(result.code, 0, `${args.join(' ')} must be refused`);
      assert.match(result.stderr, message, args.join(' '));
    }
  });

  test('the operator: two replicas with leader election, probes, PDB, namespace passed through', async () => {
    const objects = await helm.template();
    const deployment = find(objects, 'Deployment', 'chorus-operator');
    assert.equal(deployment.spec.replicas, 2);
    const container = deployment.spec.template.spec.containers[0];
    assert.deepEqual(container.command, ['node', 'operator/dist/src/main.js']);
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom?.fieldRef?.fieldPath]));
    assert.equal(env.CHORUS_OPERATOR_LEADER_ELECT, 'true');
    assert.equal(env.CHORUS_OPERATOR_LEASE_NAME, 'chorus-operator');
    assert.equal(env.POD_NAMESPACE, 'metadata.namespace', 'the Lease lives in the release namespace');
    assert.equal(env.CHORUS_OPERATOR_NAMESPACE, 'default', 'namespaced by default: it watches the release namespace');
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.equal(find(objects, 'PodDisruptionBudget', 'chorus-operator').spec.minAvailable, 1);
    const notes = await helm.ok(['install', 'chorus', chartDir, '--dry-run=client', '--set', 'chatCluster.create=true']);
    assert.match(notes, /kubectl -n default get chatclusters -w/, 'NOTES.txt tells the next step');

    const namespaced = await helm.template(['-f', join(chartDir, 'ci', 'namespaced-values.yaml'), '--namespace', 'team-a']);
    const nsEnv = Object.fromEntries(find(namespaced, 'Deployment').spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
    assert.equal(nsEnv.CHORUS_OPERATOR_NAMESPACE, 'team-a');
    assert.equal(nsEnv.CHORUS_OPERATOR_LEADER_ELECT, 'false');
    assert.ok(!namespaced.some((o) => o.kind === 'PodDisruptionBudget'), 'no PDB for a single replica');
  });

  test('RBAC: exactly the verbs the operator uses, a Role in the release namespace by default, a ClusterRole with rbac.namespaced=false', async () => {
    const expected = [
      { apiGroups: ['chorus.dev'], resources: ['chatclusters'], verbs: ['list', 'watch'] },
      { apiGroups: ['chorus.dev'], resources: ['chatclusters/status'], verbs: ['patch'] },
      { apiGroups: ['chorus.dev'], resources: ['chatclusters/finalizers'], verbs: ['update'] },
      { apiGroups: ['apps'], resources: ['deployments', 'statefulsets'], verbs: ['list', 'watch', 'create', 'patch', 'delete'] },
      { apiGroups: [''], resources: ['services', 'configmaps'], verbs: ['list', 'watch', 'create', 'patch', 'delete'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
      { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['list', 'watch', 'create', 'patch', 'delete'] },
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list', 'watch', 'create', 'patch', 'delete'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
      { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'networkpolicies'], verbs: ['list', 'watch', 'create', 'patch', 'delete'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create'] },
    ];
    const byDefault = await helm.template(['--namespace', 'ops']);
    assert.ok(!byDefault.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding'), 'no cluster-wide RBAC by default');
    assert.deepEqual(find(byDefault, 'Role', 'chorus-operator').rules, expected);
    assert.equal(find(byDefault, 'Role', 'chorus-operator').metadata.namespace, 'ops');
    const cluster = await helm.template(['--set', 'rbac.namespaced=false']);
    assert.deepEqual(find(cluster, 'ClusterRole', 'chorus-operator').rules, expected);
    assert.equal(find(cluster, 'ClusterRoleBinding', 'chorus-operator').subjects[0].name, 'chorus-operator');
    assert.deepEqual(find(cluster, 'Role', 'chorus-operator-leader-election').rules, [
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
    ]);
    for (const rule of expected) assert.ok(!rule.verbs.includes('*') && !rule.resources.includes('*'));
    // Never more than the operator's documented needs (docs/operator.md, "RBAC").
    const documented = documentedRbac();
    for (const rule of [...expected, { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }]) {
      for (const resource of rule.resources) {
        for (const verb of rule.verbs) assert.ok(documented.has(`${rule.apiGroups[0]}/${resource}:${verb}`), `${verb} ${resource} is not in docs/operator.md`);
      }
    }

    const namespaced = await helm.template(['--set', 'rbac.watchNamespace=team-b', '--namespace', 'ops']);
    assert.ok(!namespaced.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding'), 'no cluster-wide RBAC in namespaced mode');
    const role = find(namespaced, 'Role', 'chorus-operator');
    assert.equal(role.metadata.namespace, 'team-b');
    assert.deepEqual(role.rules, expected);
    const binding = find(namespaced, 'RoleBinding', 'chorus-operator');
    assert.equal(binding.metadata.namespace, 'team-b');
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'chorus-operator', namespace: 'ops' }]);
    assert.equal(find(namespaced, 'Role', 'chorus-operator-leader-election').metadata.namespace, 'ops');
  });

  test('full values: ChatCluster traced into the chart Jaeger, WebSocket-friendly Ingress, the operator NetworkPolicy, helm test hook', async () => {
    const objects = await helm.template(['-f', join(chartDir, 'ci', 'full-values.yaml'), '--namespace', 'chat']);
    const cr = find(objects, 'ChatCluster', 'chat');
    assert.equal(cr.spec.image, 'ghcr.io/chorus-chat/chorus');
    assert.equal(cr.spec.version, '0.1.0');
    assert.equal(cr.spec.gateway.replicas, 3);
    const jaegerService = find(objects, 'Service', 'chorus-jaeger');
    assert.ok(jaegerService.spec.ports.some((p: any) => p.port === 4318 && p.name === 'otlp-http'));
    assert.ok(jaegerService.spec.ports.some((p: any) => p.port === 16686 && p.name === 'ui'));
    assert.equal(cr.spec.tracing.otlpEndpoint, 'http://chorus-jaeger.chat.svc:4318');

    const ingress = find(objects, 'Ingress', 'chat-gateway-ingress');
    assert.equal(ingress.metadata.annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'], '3600');
    assert.equal(ingress.metadata.annotations['nginx.ingress.kubernetes.io/proxy-send-timeout'], '3600');
    assert.equal(ingress.spec.ingressClassName, 'nginx');
    assert.deepEqual(ingress.spec.tls, [{ hosts: ['chat.example.com'], secretName: 'chat-example-tls' }]);
    assert.equal(ingress.spec.rules[0].http.paths[0].backend.service.name, 'chat-gateway');

    // The ChatCluster's own NetworkPolicies are the operator's (every ChatCluster gets them); the
    // chart adds only the operator pod's: probes and metrics in, on the health port.
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    assert.deepEqual(policies.map((p) => p.metadata.name), ['chorus-operator']);
    assert.deepEqual(policies[0].spec.ingress, [{ ports: [{ port: 'health', protocol: 'TCP' }] }]);

    const smoke = find(objects, 'Pod', 'chorus-loadtest-smoke');
    assert.equal(smoke.metadata.annotations['helm.sh/hook'], 'test');
    assert.deepEqual(smoke.spec.containers[0].command, [
      'node', 'loadtest/dist/src/cli.js', 'steady', '--gateway', 'http://chat-gateway:8080', '--users', '20', '--duration', '5s', '--progress', 'lines', '--out', '/tmp/loadtest',
    ]);
  });

  test('the helm test hook follows a custom gateway port and is absent without a ChatCluster or without dev login', async () => {
    const objects = await helm.template(['-f', join(chartDir, 'ci', 'chatcluster-values.yaml'), '--set', 'chatCluster.spec.gateway.auth.devLogin=true']);
    const command = find(objects, 'Pod', 'chorus-loadtest-smoke').spec.containers[0].command as string[];
    assert.equal(command[command.indexOf('--gateway') + 1], 'http://team-chat-gateway:9090');
    const smoke = (objects: { kind: string; metadata: { name: string } }[]) => objects.some((o) => o.kind === 'Pod' && o.metadata.name.endsWith('-loadtest-smoke'));
    assert.ok(!smoke(await helm.template()));
    assert.ok(!smoke(await helm.template(['-f', join(chartDir, 'ci', 'chatcluster-values.yaml')])), 'no smoke test: the load tester cannot log in');
  });

  test('the operator Service and the helm test hook that checks it and the ChatCluster API (deleted when it passes)', async () => {
    for (const [args, namespace] of [[[], 'default'], [['-f', join(chartDir, 'ci', 'namespaced-values.yaml'), '--namespace', 'team-a'], 'team-a']] as const) {
      const objects = await helm.template([...args]);
      const service = find(objects, 'Service', 'chorus-operator');
      assert.deepEqual(service.spec.selector, find(objects, 'Deployment', 'chorus-operator').spec.selector.matchLabels);
      assert.deepEqual(service.spec.ports, [{ name: 'health', port: 8081, targetPort: 'health', protocol: 'TCP' }]);
      const check = find(objects, 'Pod', 'chorus-operator-check');
      assert.equal(check.metadata.annotations['helm.sh/hook'], 'test');
      assert.equal(check.metadata.annotations['helm.sh/hook-delete-policy'], 'before-hook-creation,hook-succeeded');
      assert.equal(check.spec.serviceAccountName, 'chorus-operator');
      const env = Object.fromEntries(check.spec.containers[0].env.map((e: any) => [e.name, e.value]));
      assert.deepEqual(env, { OPERATOR_URL: 'http://chorus-operator:8081', WATCH_NAMESPACE: namespace });
      // The script is valid JavaScript (node -e would fail on a syntax error only in the cluster).
      const script = check.spec.containers[0].command[2] as string;
      const file = join(scratch, 'operator-check.cjs');
      writeFileSync(file, script);
      const syntax = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
      assert.equal(syntax.status, 0, syntax.stderr);
    }
    assert.ok(!(await helm.template(['--set', 'tests.operator.enabled=false'])).some((o) => o.kind === 'Pod'));
  });

  test('the chart\'s ChatCluster has the dev login off unless asked for', async () => {
    const chat = (objects: { kind: string; spec?: any }[]) => objects.find((o) => o.kind === 'ChatCluster')!.spec;
    assert.equal(chat(await helm.template(['--set', 'chatCluster.create=true'])).gateway.auth.devLogin, false);
    assert.equal(chat(await helm.template(['--set', 'chatCluster.create=true', '--set', 'chatCluster.spec.gateway.auth.devLogin=true'])).gateway.auth.devLogin, true);
  });

  test('the helm test command is accepted by the real load tester CLI (it runs, and fails only for want of a gateway)', async () => {
    const objects = await helm.template(['--set', 'chatCluster.create=true', '--set', 'chatCluster.spec.gateway.auth.devLogin=true', '--set', 'tests.loadtest.users=2', '--set', 'tests.loadtest.duration=1s']);
    const command = [...(find(objects, 'Pod', 'chorus-loadtest-smoke').spec.containers[0].command as string[])];
    assert.equal(command[0], 'node');
    const out = join(scratch, 'smoke-reports');
    // Same flags; only the gateway (nothing listens on port 9) and the report folder differ.
    command[command.indexOf('--gateway') + 1] = 'http://127.0.0.1:9';
    command[command.indexOf('--out') + 1] = out;
    const result = spawnSync(process.execPath, command.slice(1), { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, 1, `exit 1 (SLO broken), not 2 (bad usage): ${result.stderr}`);
    assert.match(result.stdout + result.stderr, /connection failures: 2 > 0 allowed/);
    assert.ok(existsSync(join(out, 'report.json')), 'the report is written where the read-only pod can write');
  });
});
