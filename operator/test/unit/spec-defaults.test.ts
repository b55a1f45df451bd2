import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseSpec } from '../../src/api/chatcluster-spec.js';
import { mergeUnder, sizes } from '../../src/api/size-presets.js';
import { crdPath } from '../integration/harness.js';

type Schema = { type?: string; default?: unknown; properties?: Record<string, Schema> };

/** Structural-schema defaulting as the API server does it: a default fills a missing field, then recurse. */
function applyDefaults(schema: Schema, value: unknown): unknown {
  let v = value === undefined && schema.default !== undefined ? structuredClone(schema.default) : value;
  if (v && typeof v === 'object' && !Array.isArray(v) && schema.properties) {
    const obj = { ...(v as Record<string, unknown>) };
    for (const [key, child] of Object.entries(schema.properties)) {
      const next = applyDefaults(child, obj[key]);
      if (next !== undefined) obj[key] = next;
    }
    v = obj;
  }
  return v;
}

const crd = parse(readFileSync(crdPath, 'utf8'));
const specSchema: Schema = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;

/**
 * The fields a size preset sets that have a scalar default: the CRD leaves them undefaulted (a
 * server-side default would look written by the user and override the preset); the operator
 * defaults them to these when there is no size.
 */
const presetFieldFallbacks = {
  gateway: { replicas: 2 },
  messageService: { minReplicas: 1, maxReplicas: 10, backlogPerReplica: 1000 },
  nats: { replicas: 1, storageSize: '1Gi' },
  mongodb: { replicas: 1 },
};

test('the operator defaults a spec as the CRD schema does, plus the fields a size preset sets', () => {
  const fromCrd = applyDefaults(specSchema, {}) as Record<string, unknown>;
  const parsed = parseSpec({});
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.spec, mergeUnder(fromCrd, presetFieldFallbacks));
  // And for a partly filled spec.
  const partial = { gateway: { replicas: 5 }, batching: { bounds: { maxBatchSize: 300 } }, nats: { replicas: 3 } };
  const again = parseSpec(structuredClone(partial));
  assert.ok(again.ok);
  assert.deepEqual(again.spec, mergeUnder(mergeUnder(applyDefaults(specSchema, structuredClone(partial)) as Record<string, unknown>, presetFieldFallbacks), partial));
});

test('what the API server defaults never overrides a size preset', () => {
  for (const size of sizes) {
    const written = { size, gateway: { replicas: 7 } };
    const served = parseSpec(applyDefaults(specSchema, structuredClone(written)));
    const direct = parseSpec(structuredClone(written));
    assert.ok(served.ok && direct.ok);
    assert.deepEqual(served.spec, direct.spec, `size ${size}`);
  }
});

test('the CRD is served as v1alpha1 with status and scale subresources, printer columns and short name chat', () => {
  const version = crd.spec.versions[0];
  assert.equal(crd.metadata.name, 'chatclusters.chorus.dev');
  assert.deepEqual(crd.spec.names.shortNames, ['chat']);
  assert.equal(version.name, 'v1alpha1');
  assert.deepEqual(version.subresources.status, {});
  assert.equal(version.subresources.scale.specReplicasPath, '.spec.gateway.replicas');
  assert.deepEqual(
    version.additionalPrinterColumns.map((c: { name: string }) => c.name),
    ['Ready', 'Size', 'Version', 'Upgrade', 'Gateways', 'Workers', 'Queue', 'Batch', 'Flush-ms', 'Age'],
  );
});

test('cross-field rules the reconciler repeats produce readable messages', () => {
  const minMax = parseSpec({ messageService: { minReplicas: 4, maxReplicas: 2 } });
  assert.equal(minMax.ok, false);
  assert.match(!minMax.ok ? minMax.message : '', /messageService.minReplicas must be less than or equal to messageService.maxReplicas/);
  const flush = parseSpec({ batching: { bounds: { minFlushMs: 500, maxFlushMs: 100 } } });
  assert.match(!flush.ok ? flush.message : '', /minFlushMs must be less than or equal to/);
  const type = parseSpec({ gateway: { replicas: 'two' } });
  assert.match(!type.ok ? type.message : '', /spec\.gateway\.replicas/);
});
