import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpec } from '../../src/api/chatcluster-spec.js';
import { buildContext } from '../../src/builders/build-context.js';
import { desiredState } from '../../src/builders/desired-state.js';
import type { KubeObject } from '../../src/kube/kube-object.js';

/** PodDisruptionBudgets, topology spread and the drain deadlines the operator renders. */
function build(spec: unknown, status: Record<string, unknown> = {}): KubeObject[] {
  const cr = { apiVersion: 'chorus.dev/v1alpha1', kind: 'ChatCluster', metadata: { name: 'c1', namespace: 'team', uid: 'uid-1', generation: 1 }, spec, status };
  const parsed = parseSpec(spec);
  assert.ok(parsed.ok, !parsed.ok ? parsed.message : '');
  return desiredState(buildContext(cr as any, parsed.spec));
}
const find = (objects: KubeObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name) as any;
const budget = (objects: KubeObject[], component: string) => find(objects, 'PodDisruptionBudget', `c1-${component}`)?.spec;
const podSpec = (objects: KubeObject[], kind: string, component: string) => find(objects, kind, `c1-${component}`).spec.template.spec;
const env = (container: any) => Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

test('every workload has a budget that lets one pod go at a time and never blocks a single replica', () => {
  const single = build({ gateway: { replicas: 1 }, messageService: { minReplicas: 1, maxReplicas: 1 } });
  for (const component of ['gateway', 'message-service', 'nats', 'redis', 'mongodb']) {
    const spec = budget(single, component);
    assert.ok(spec, `a PodDisruptionBudget for ${component}`);
    // maxUnavailable 1 on one replica allows its eviction; minAvailable 1 would block it forever.
    assert.deepEqual({ maxUnavailable: spec.maxUnavailable, minAvailable: spec.minAvailable }, { maxUnavailable: 1, minAvailable: undefined }, component);
    assert.equal(spec.unhealthyPodEvictionPolicy, 'AlwaysAllow', `${component}: a pod that is not ready never blocks a drain`);
    assert.deepEqual(spec.selector.matchLabels, find(single, component === 'gateway' || component === 'message-service' ? 'Deployment' : 'StatefulSet', `c1-${component}`).spec.selector.matchLabels);
  }
});

test('quorum members keep a majority: 3 replicas allow 1 down (replicas - 1), 5 allow 2', () => {
  const three = build({ nats: { replicas: 3 }, mongodb: { replicas: 3 } });
  assert.equal(budget(three, 'nats').minAvailable, 2);
  assert.equal(budget(three, 'mongodb').minAvailable, 2);
  assert.equal(budget(three, 'nats').maxUnavailable, undefined);
  const five = build({ nats: { replicas: 5 } });
  assert.equal(budget(five, 'nats').minAvailable, 3);
  // Stateless workloads: one at a time whatever the autopilot scales them to.
  const many = build({ gateway: { replicas: 6 } }, { autopilot: { desiredReplicas: 4 } });
  assert.equal(budget(many, 'gateway').maxUnavailable, 1);
  assert.equal(budget(many, 'message-service').maxUnavailable, 1);
  // No budget for MongoDB when it is external.
  assert.equal(budget(build({ mongodb: { external: { uriSecretRef: { name: 'db', key: 'url' } } } }), 'mongodb'), undefined);
});

test('replicas spread over nodes and zones, softly (a single node still runs them all)', () => {
  const objects = build({ nats: { replicas: 3 } });
  for (const [kind, component] of [['Deployment', 'gateway'], ['Deployment', 'message-service'], ['StatefulSet', 'nats'], ['StatefulSet', 'mongodb']] as const) {
    const constraints = podSpec(objects, kind, component).topologySpreadConstraints;
    assert.deepEqual(constraints.map((c: any) => c.topologyKey), ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'], component);
    for (const c of constraints) {
      assert.equal(c.maxSkew, 1);
      assert.equal(c.whenUnsatisfiable, 'ScheduleAnyway', `${component}: DoNotSchedule would leave replicas pending on one node`);
      assert.deepEqual(c.labelSelector.matchLabels, find(objects, kind, `c1-${component}`).spec.selector.matchLabels);
    }
  }
});

test('drain deadlines reach the services as env, and the grace period is above them', () => {
  const defaults = build({});
  const gw = podSpec(defaults, 'Deployment', 'gateway');
  assert.equal(env(gw.containers[0]).DRAIN_WINDOW_MS, '10000');
  assert.equal(env(gw.containers[0]).DRAIN_TIMEOUT_MS, '25000');
  // The gateway exits within DRAIN_TIMEOUT_MS + 5 s (gateway/src/main.ts); the kubelet must wait longer.
  assert.ok(gw.terminationGracePeriodSeconds > 25 + 5, `grace ${gw.terminationGracePeriodSeconds}`);
  const ms = podSpec(defaults, 'Deployment', 'message-service');
  assert.equal(env(ms.containers[0]).DRAIN_TIMEOUT_MS, '20000');
  assert.ok(ms.terminationGracePeriodSeconds > 20, `grace ${ms.terminationGracePeriodSeconds}`);

  const custom = build({ gateway: { drain: { windowSeconds: 60, timeoutSeconds: 90 } }, messageService: { drainTimeoutSeconds: 45 } });
  const cgw = podSpec(custom, 'Deployment', 'gateway');
  assert.equal(env(cgw.containers[0]).DRAIN_WINDOW_MS, '60000');
  assert.equal(env(cgw.containers[0]).DRAIN_TIMEOUT_MS, '90000');
  assert.ok(cgw.terminationGracePeriodSeconds > 95);
  assert.ok(podSpec(custom, 'Deployment', 'message-service').terminationGracePeriodSeconds > 45);

  const bad = parseSpec({ gateway: { drain: { windowSeconds: 30, timeoutSeconds: 31 } } });
  assert.equal(bad.ok, false);
  assert.match(!bad.ok ? bad.message : '', /gateway\.drain\.timeoutSeconds must exceed gateway\.drain\.windowSeconds \+ 2/);
});
