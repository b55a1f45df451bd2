import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatCluster } from '../../src/api/chatcluster.js';
import { parseWatchEvent, type KubeClient, type ListResult, type WatchEvent } from '../../src/kube/kube-client.js';
import type { KubeObject } from '../../src/kube/kube-object.js';
import type { Lease, Secret, Workload } from '../../src/kube/object-types.js';
import { kindOf, kinds, resourcePath, type KindName, type ResourceKind } from '../../src/kube/resource-kinds.js';

test('every kind of the table has its REST path: core and group APIs, namespaced, all namespaces, subresources', () => {
  const expected: Record<KindName, string> = {
    ChatCluster: '/apis/chorus.dev/v1alpha1/namespaces/ns/chatclusters/x',
    Deployment: '/apis/apps/v1/namespaces/ns/deployments/x',
    StatefulSet: '/apis/apps/v1/namespaces/ns/statefulsets/x',
    Service: '/api/v1/namespaces/ns/services/x',
    ConfigMap: '/api/v1/namespaces/ns/configmaps/x',
    Secret: '/api/v1/namespaces/ns/secrets/x',
    PodDisruptionBudget: '/apis/policy/v1/namespaces/ns/poddisruptionbudgets/x',
    Job: '/apis/batch/v1/namespaces/ns/jobs/x',
    Pod: '/api/v1/namespaces/ns/pods/x',
    Ingress: '/apis/networking.k8s.io/v1/namespaces/ns/ingresses/x',
    NetworkPolicy: '/apis/networking.k8s.io/v1/namespaces/ns/networkpolicies/x',
    Event: '/api/v1/namespaces/ns/events/x',
    Lease: '/apis/coordination.k8s.io/v1/namespaces/ns/leases/x',
  };
  assert.deepEqual(Object.keys(kinds).sort(), Object.keys(expected).sort());
  for (const [name, path] of Object.entries(expected)) {
    const kind = kinds[name as KindName];
    assert.equal(kind.kind, name);
    assert.equal(kind.namespaced, true);
    assert.equal(resourcePath(kind, 'ns', 'x'), path);
    assert.ok(Object.isFrozen(kind), `${name} cannot be changed at run time`);
  }
  assert.equal(resourcePath(kinds.Deployment, undefined), '/apis/apps/v1/deployments', 'a list over all namespaces');
  assert.equal(resourcePath(kinds.ChatCluster, 'ns', 'a b', 'status'), '/apis/chorus.dev/v1alpha1/namespaces/ns/chatclusters/a%20b/status');
  assert.equal(resourcePath({ kind: 'Namespace', apiVersion: 'v1', plural: 'namespaces', namespaced: false }, 'ignored', 'x'), '/api/v1/namespaces/x');
});

test('kindOf finds the table entry of an object\'s kind and refuses any other name', () => {
  assert.equal(kindOf('Deployment'), kinds.Deployment);
  assert.equal(kindOf('Lease'), kinds.Lease);
  for (const name of ['Node', 'deployment', 'toString', 'constructor', '__proto__', '']) {
    assert.throws(() => kindOf(name), /the operator does not manage kind/, name);
  }
});

test('a watch line must be an event of a known type with an object', () => {
  assert.deepEqual(parseWatchEvent('{"type":"ADDED","object":{"metadata":{"name":"a"}}}', '/p'), { type: 'ADDED', object: { metadata: { name: 'a' } } });
  assert.equal(parseWatchEvent<KubeObject>('{"type":"ERROR","object":{"kind":"Status","code":410}}', '/p').type, 'ERROR');
  assert.throws(() => parseWatchEvent('{"type":"ADDED"', '/api/v1/configmaps'), /watch \/api\/v1\/configmaps: not a JSON event/);
  assert.throws(() => parseWatchEvent('{"type":"RENAMED","object":{}}', '/p'), /malformed event/);
  assert.throws(() => parseWatchEvent('{"type":"ADDED","object":null}', '/p'), /malformed event/);
  assert.throws(() => parseWatchEvent('[]', '/p'), /malformed event/);
});

// Compile-time checks: the kind passed in decides the type that comes back, with no type argument
// and no kind string at the call. `npx tsc -b` fails if any of these stops holding.
type Equal<A, B> = (<V>() => V extends A ? 1 : 2) extends <V>() => V extends B ? 1 : 2 ? true : false;
type ObjectsOf<K> = K extends ResourceKind<infer T> ? T : never;
declare const client: Pick<KubeClient, 'get' | 'list' | 'watch' | 'mergePatch'>;
const leaseGet = () => client.get(kinds.Lease, 'ns', 'x');
const deploymentList = () => client.list(kinds.Deployment, 'ns');
const statusPatch = () => client.mergePatch(kinds.ChatCluster, 'ns', 'x', {}, 'status');
const secretWatch = () =>
  client.watch(kinds.Secret, 'ns', {}, (event) => {
    const checks: [Equal<typeof event, WatchEvent<Secret>>] = [true];
    void checks;
  }, { signal: AbortSignal.abort(), idleTimeoutMs: 1 });
// @ts-expect-error a kind string is no longer accepted
const byString = () => client.get('Lease', 'ns', 'x');

test('the table types get, list, watch and mergePatch by kind', () => {
  const checks: [
    Equal<ObjectsOf<typeof kinds.Lease>, Lease>,
    Equal<ObjectsOf<typeof kinds.Secret>, Secret>,
    Equal<ObjectsOf<typeof kinds.ChatCluster>, ChatCluster>,
    Equal<ObjectsOf<typeof kinds.Deployment>, Workload>,
    Equal<ObjectsOf<typeof kinds.StatefulSet>, Workload>,
    Equal<Awaited<ReturnType<typeof leaseGet>>, Lease | undefined>,
    Equal<Awaited<ReturnType<typeof deploymentList>>, ListResult<Workload>>,
    Equal<Awaited<ReturnType<typeof statusPatch>>, ChatCluster>,
  ] = [true, true, true, true, true, true, true, true];
  assert.ok(checks.every(Boolean));
  // Declared only: the calls are type-checked, never run.
  assert.deepEqual([leaseGet, deploymentList, statusPatch, secretWatch, byString].map((f) => typeof f), Array(5).fill('function'));
});
