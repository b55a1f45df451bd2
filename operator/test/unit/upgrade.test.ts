import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { UpgradeStatus } from '../../src/api/chatcluster.js';
import { parseSpec } from '../../src/api/chatcluster-spec.js';
import { buildContext } from '../../src/builders/build-context.js';
import { preflightJob } from '../../src/builders/preflight-job.js';
import { computeStatus } from '../../src/reconcile/status.js';
import { decideUpgrade, preflightOutcome, splitImage } from '../../src/reconcile/upgrade.js';

const old = 'registry:5000/chorus:1.0';
const next = 'registry:5000/chorus:1.1';
const running: UpgradeStatus = { currentVersion: '1.0', targetVersion: '1.0', currentImage: old, phase: 'Complete', message: 'running 1.0' };
const base = { previous: running, liveImage: old, preflightJob: 'demo-preflight-abc', rolledOut: (image: string) => image === old };

test('splitImage keeps a registry port in the repository', () => {
  assert.deepEqual(splitImage('registry:5000/chorus:1.1'), { image: 'registry:5000/chorus', version: '1.1' });
  assert.deepEqual(splitImage('chorus'), { image: 'chorus', version: 'latest' });
});

test('a new ChatCluster and an unchanged version roll without a preflight', () => {
  const fresh = decideUpgrade({ ...base, previous: undefined, liveImage: undefined, targetImage: next, preflight: undefined, rolledOut: () => false });
  assert.deepEqual([fresh.renderImage, fresh.wantPreflight, fresh.upgrade.phase], [next, false, 'RollingOut']);
  const same = decideUpgrade({ ...base, targetImage: old, preflight: undefined });
  assert.deepEqual([same.renderImage, same.wantPreflight, same.upgrade.phase, same.event], [old, false, 'Complete', undefined]);
  // A ChatCluster from before verified upgrades: the live Deployment says what runs.
  const legacy = decideUpgrade({ ...base, previous: undefined, targetImage: next, preflight: undefined });
  assert.deepEqual([legacy.renderImage, legacy.wantPreflight, legacy.upgrade.phase], [old, true, 'Preflight']);
});

test('a changed version keeps the old image while its preflight runs, rolls once it passed, and stays put when it failed', () => {
  const checking = decideUpgrade({ ...base, targetImage: next, preflight: { state: 'running' } });
  assert.deepEqual([checking.renderImage, checking.wantPreflight, checking.upgrade.phase, checking.upgrade.currentVersion, checking.upgrade.targetVersion], [old, true, 'Preflight', '1.0', '1.1']);
  assert.equal(checking.event?.reason, 'PreflightStarted');
  assert.equal(decideUpgrade({ ...base, previous: checking.upgrade, targetImage: next, preflight: { state: 'running' } }).event, undefined, 'started once');

  const passed = decideUpgrade({ ...base, previous: checking.upgrade, targetImage: next, preflight: { state: 'passed', passed: ['nats.stream', 'canary.message'] } });
  assert.deepEqual([passed.renderImage, passed.wantPreflight, passed.upgrade.phase, passed.upgrade.currentVersion], [next, true, 'RollingOut', '1.1']);
  assert.match(passed.event!.message, /preflight of 1\.1 passed \(nats\.stream, canary\.message\); rolling out 1\.0 -> 1\.1/);
  const after = decideUpgrade({ ...base, previous: passed.upgrade, liveImage: next, targetImage: next, preflight: undefined, rolledOut: (i) => i === next });
  assert.deepEqual([after.renderImage, after.upgrade.phase, after.wantPreflight], [next, 'Complete', true], 'the passed Job is kept until the next change');

  const failed = decideUpgrade({ ...base, previous: checking.upgrade, targetImage: next, preflight: { state: 'failed', check: 'mongodb.indexes', detail: 'messages.room_pos is not unique' } });
  assert.deepEqual([failed.renderImage, failed.wantPreflight, failed.upgrade.phase, failed.upgrade.failedCheck], [old, true, 'PreflightFailed', 'mongodb.indexes']);
  assert.equal(failed.event?.type, 'Warning');
  assert.match(failed.event!.message, /preflight of 1\.1 failed: check mongodb\.indexes: messages\.room_pos is not unique; 1\.0 keeps serving/);
  assert.equal(decideUpgrade({ ...base, previous: failed.upgrade, targetImage: next, preflight: { state: 'failed', check: 'mongodb.indexes', detail: 'x' } }).event, undefined, 'one Event per failure');
  // Back to the running version: nothing to check, not degraded.
  const reverted = decideUpgrade({ ...base, previous: failed.upgrade, targetImage: old, preflight: undefined, preflightJob: 'demo-preflight-old' });
  assert.deepEqual([reverted.renderImage, reverted.wantPreflight, reverted.upgrade.phase], [old, false, 'Complete']);

  // Status: Degraded with the reason while failed, Progressing while checking; Ready is the workloads'.
  const parsed = parseSpec({});
  assert.ok(parsed.ok);
  const statusOf = (upgrade: UpgradeStatus) =>
    Object.fromEntries(computeStatus({ generation: 2, previous: [], spec: parsed.spec, workerReplicas: 1, gatewaySelector: '', children: {}, applyErrors: [], upgrade }).conditions!.map((c) => [c.type, c]));
  const degraded = statusOf(failed.upgrade);
  assert.deepEqual([degraded.Degraded!.status, degraded.Degraded!.reason, degraded.Progressing!.status], ['True', 'PreflightFailed', 'False']);
  assert.match(degraded.Degraded!.message, /check mongodb\.indexes/);
  assert.deepEqual([statusOf(checking.upgrade).Progressing!.reason, statusOf(checking.upgrade).Degraded!.status], ['Preflight', 'False']);
});

test('the preflight outcome is read from the Job and its container termination message', () => {
  const job = (status: object) => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, status });
  const pod = (message: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, status: { containerStatuses: [{ name: 'preflight', state: { terminated: { exitCode: 1, message } } }] } });
  assert.deepEqual(preflightOutcome(job({ active: 1 }), []), { state: 'running' });
  const summary = { ok: false, version: '1.1', failed: { check: 'nats.stream', detail: 'republish differs' }, passed: ['nats.connect'] };
  const failedJob = job({ failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }] });
  assert.deepEqual(preflightOutcome(failedJob, [pod(JSON.stringify(summary))]), { state: 'failed', check: 'nats.stream', detail: 'republish differs' });
  assert.deepEqual(preflightOutcome(job({ succeeded: 1 }), [pod(JSON.stringify({ ...summary, ok: true, failed: undefined, passed: ['a', 'b'] }))]), { state: 'passed', passed: ['a', 'b'] });
  // Killed at the deadline (or never started): the Job's own reason names it.
  const deadline = job({ failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' }] });
  assert.deepEqual(preflightOutcome(deadline, []), { state: 'failed', check: 'DeadlineExceeded', detail: 'Job was active longer than specified deadline' });
});

test('the preflight Job runs the target image once, bounded, with the platform config', () => {
  const parsed = parseSpec({ image: 'registry:5000/chorus', version: '1.1', mongodb: { external: { uriSecretRef: { name: 'mongo' } } } });
  assert.ok(parsed.ok);
  const ctx = buildContext({ apiVersion: 'chorus.dev/v1alpha1', kind: 'ChatCluster', metadata: { name: 'demo', namespace: 'ns', uid: 'u' } }, parsed.spec);
  const job = preflightJob(ctx) as any;
  assert.match(job.metadata.name, /^demo-preflight-[0-9a-f]{8}$/);
  assert.equal(job.spec.backoffLimit, 0);
  assert.ok(job.spec.activeDeadlineSeconds > 0);
  const container = job.spec.template.spec.containers[0];
  assert.equal(container.image, 'registry:5000/chorus:1.1');
  assert.deepEqual(container.command, ['node', 'loadtest/dist/src/preflight/main.js']);
  assert.deepEqual(container.envFrom, [{ configMapRef: { name: 'demo-config' } }]);
  assert.ok(container.env.some((e: any) => e.name === 'MONGODB_URI' && e.valueFrom.secretKeyRef.name === 'mongo'));
  assert.equal(container.securityContext.readOnlyRootFilesystem, true);
});
