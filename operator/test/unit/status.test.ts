import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpec } from '../../src/api/chatcluster-spec.js';
import { computeStatus, invalidSpecStatus } from '../../src/reconcile/status.js';

const spec = (parseSpec({}) as any).spec;
const workload = (ready: number, updated = ready, generation = 1) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { generation },
  status: { replicas: ready, readyReplicas: ready, updatedReplicas: updated, observedGeneration: 1 },
});
const input = (children: object, extra: object = {}) => ({
  generation: 3,
  previous: undefined,
  spec,
  workerReplicas: 1,
  gatewaySelector: 'a=b',
  children,
  applyErrors: [],
  now: new Date('2026-01-01T00:00:00Z'),
  ...extra,
});
const cond = (s: any, type: string) => s.conditions.find((c: any) => c.type === type);

test('nothing ready yet: Ready=False (ComponentsNotReady) with what is missing, Progressing=True', () => {
  const s = computeStatus(input({}));
  assert.equal(cond(s, 'Ready').status, 'False');
  assert.equal(cond(s, 'Ready').reason, 'ComponentsNotReady');
  assert.match(cond(s, 'Ready').message, /gateway 0\/2, message-service 0\/1, nats 0\/1, redis 0\/1, mongodb 0\/1/);
  assert.equal(cond(s, 'Progressing').status, 'True');
  assert.equal(cond(s, 'Degraded').status, 'False');
  assert.equal(s.observedGeneration, 3);
  assert.equal(s.gateway!.summary, '0/2');
});

test('all ready: Ready=True; the transition time only moves when the status flips', () => {
  const all = { gateway: workload(2), messageService: workload(1), nats: workload(1), redis: workload(1), mongodb: workload(1) };
  const first = computeStatus(input(all));
  assert.equal(cond(first, 'Ready').status, 'True');
  assert.equal(cond(first, 'Progressing').status, 'False');
  const later = computeStatus(input(all, { previous: first.conditions, now: new Date('2026-01-01T01:00:00Z') }));
  assert.equal(cond(later, 'Ready').lastTransitionTime, '2026-01-01T00:00:00.000Z');
  const broken = computeStatus(input({ ...all, gateway: workload(1) }, { previous: later.conditions, now: new Date('2026-01-01T02:00:00Z') }));
  assert.equal(cond(broken, 'Ready').status, 'False');
  assert.equal(cond(broken, 'Ready').lastTransitionTime, '2026-01-01T02:00:00.000Z');
});

test('apply errors and bad references make it Degraded', () => {
  const s = computeStatus(input({}, { applyErrors: ['Deployment/x: field is immutable'] }));
  assert.equal(cond(s, 'Degraded').status, 'True');
  assert.equal(cond(s, 'Degraded').reason, 'ApplyFailed');
  const r = computeStatus(input({}, { referenceProblems: ['Secret db not found'] }));
  assert.equal(cond(r, 'Degraded').reason, 'InvalidReference');
  assert.equal(cond(r, 'Ready').reason, 'InvalidReference');
  const invalid = invalidSpecStatus(4, undefined, 'spec.x: bad');
  assert.deepEqual(invalid.conditions!.map((c) => [c.type, c.status, c.reason]), [
    ['Ready', 'False', 'InvalidSpec'],
    ['Progressing', 'False', 'InvalidSpec'],
    ['Degraded', 'True', 'InvalidSpec'],
  ]);
});

test('ready but not rolled out: Ready=True, Progressing=True until every replica runs the new spec', () => {
  const all = { gateway: workload(2), messageService: workload(1), nats: workload(1), redis: workload(1), mongodb: workload(1) };
  const updating = computeStatus(input({ ...all, gateway: workload(2, 1) }));
  assert.equal(cond(updating, 'Ready').status, 'True');
  assert.equal(cond(updating, 'Progressing').status, 'True');
  assert.match(cond(updating, 'Progressing').message, /updating gateway/);
  // The controller has not seen the new generation yet.
  const unseen = computeStatus(input({ ...all, messageService: workload(1, 1, 2) }));
  assert.match(cond(unseen, 'Progressing').message, /updating message-service/);
  assert.equal(cond(computeStatus(input(all)), 'Progressing').status, 'False');
});
