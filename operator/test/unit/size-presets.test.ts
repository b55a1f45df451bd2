import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseSpec } from '../../src/api/chatcluster-spec.js';
import { mergeUnder, sizePresets, sizes } from '../../src/api/size-presets.js';
import { buildContext } from '../../src/builders/build-context.js';
import { desiredState } from '../../src/builders/desired-state.js';
import { crdPath } from '../integration/harness.js';

const cr = (spec: unknown) => ({ apiVersion: 'chorus.dev/v1alpha1', kind: 'ChatCluster', metadata: { name: 'demo', namespace: 'ns', uid: 'u1' }, spec });
const containerOf = (objects: any[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name).spec.template.spec.containers[0];

test('a size preset sets replicas, requests and limits of every workload, NATS and Redis sizing and the autopilot bounds', () => {
  const parsed = parseSpec({ size: '10k' });
  assert.ok(parsed.ok);
  const preset = sizePresets['10k'] as any;
  const { spec } = parsed;
  assert.equal(spec.gateway.replicas, preset.gateway.replicas);
  assert.deepEqual([spec.messageService.minReplicas, spec.messageService.maxReplicas, spec.messageService.backlogPerReplica], [2, 6, 2000]);
  assert.deepEqual([spec.nats.replicas, spec.nats.storageSize], [3, '5Gi']);
  assert.equal(spec.mongodb.replicas, 3);
  const objects = desiredState(buildContext(cr({ size: '10k' }), spec)) as any[];
  assert.deepEqual(containerOf(objects, 'Deployment', 'demo-gateway').resources, preset.gateway.resources);
  assert.deepEqual(containerOf(objects, 'Deployment', 'demo-message-service').resources, preset.messageService.resources);
  assert.deepEqual(containerOf(objects, 'StatefulSet', 'demo-nats').resources, preset.nats.resources);
  assert.deepEqual(containerOf(objects, 'StatefulSet', 'demo-redis').resources, preset.redis.resources);
  assert.deepEqual(containerOf(objects, 'StatefulSet', 'demo-mongodb').resources, preset.mongodb.resources);
  assert.equal(objects.find((o) => o.metadata.name === 'demo-gateway' && o.kind === 'Deployment').spec.replicas, 3);
  assert.equal(objects.find((o) => o.metadata.name === 'demo-message-service').spec.replicas, 2, 'the autopilot starts from minReplicas');
  assert.match(objects.find((o) => o.metadata.name === 'demo-nats-config').data['nats.conf'], /max_file_store: 5G/);
});

test('every field written in the spec overrides its preset, down to one limit', () => {
  const parsed = parseSpec({
    size: '50k',
    gateway: { replicas: 3, resources: { limits: { memory: '3Gi' } } },
    messageService: { maxReplicas: 20 },
    nats: { storageSize: '2Gi' },
  });
  assert.ok(parsed.ok);
  const { spec } = parsed;
  assert.equal(spec.gateway.replicas, 3);
  assert.deepEqual(spec.gateway.resources, { requests: { cpu: '2', memory: '512Mi' }, limits: { memory: '3Gi' } }, 'requests from the preset, the limit as written');
  assert.deepEqual([spec.messageService.minReplicas, spec.messageService.maxReplicas], [3, 20]);
  assert.deepEqual([spec.nats.replicas, spec.nats.storageSize], [3, '2Gi']);
  // Without a size: the defaults as before.
  const plain = parseSpec({});
  assert.ok(plain.ok);
  assert.deepEqual([plain.spec.gateway.replicas, plain.spec.messageService.maxReplicas, plain.spec.gateway.resources], [2, 10, undefined]);
});

test('an external MongoDB gets no replica count from the preset; a preset that breaks a rule is refused like a written one', () => {
  const external = parseSpec({ size: '100k', mongodb: { external: { uriSecretRef: { name: 'mongo' } } } });
  assert.ok(external.ok);
  assert.equal(external.spec.mongodb.replicas, 1);
  const inverted = parseSpec({ size: '100k', messageService: { maxReplicas: 2 } });
  assert.equal(inverted.ok, false);
  assert.match(!inverted.ok ? inverted.message : '', /minReplicas must be less than or equal to messageService.maxReplicas/);
  assert.equal(parseSpec({ size: '5k' }).ok, false);
});

test('mergeUnder: objects merge key by key, scalars and arrays given replace the base', () => {
  assert.deepEqual(mergeUnder({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, e: 2 }), { a: { b: 1, c: [3] }, d: 1, e: 2 });
});

test('the presets grow with the size, and the CRD enum and printer column name exactly them', () => {
  const crd = parse(readFileSync(crdPath, 'utf8'));
  const version = crd.spec.versions[0];
  assert.deepEqual(version.schema.openAPIV3Schema.properties.spec.properties.size.enum, [...sizes]);
  assert.ok(version.additionalPrinterColumns.some((c: any) => c.name === 'Size' && c.jsonPath === '.spec.size'));
  for (let i = 1; i < sizes.length; i++) {
    const [small, large] = [parseSpec({ size: sizes[i - 1] }), parseSpec({ size: sizes[i] })];
    assert.ok(small.ok && large.ok);
    assert.ok(large.spec.gateway.replicas > small.spec.gateway.replicas, `${sizes[i]} has more gateways`);
    assert.ok(large.spec.messageService.maxReplicas > small.spec.messageService.maxReplicas, `${sizes[i]} may run more workers`);
  }
});
