import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config.js';

test('flags win over env, env over defaults', () => {
  const config = loadConfig(['--namespace', 'chat', '--health-port', '9090'], { CHORUS_OPERATOR_NAMESPACE: 'other', CHORUS_OPERATOR_LEASE_NAME: 'l1', POD_NAME: 'op-0' });
  assert.equal(config.namespace, 'chat');
  assert.equal(config.healthPort, 9090);
  assert.equal(config.leaseName, 'l1');
  assert.equal(config.identity, 'op-0');
  assert.equal(config.leaderElection, true);
  assert.equal(config.natsUrl, 'nats://{name}-nats.{namespace}.svc:4222');
  assert.equal(loadConfig(['--leader-elect', 'false'], {}).leaderElection, false);
  assert.equal(loadConfig([], { CHORUS_OPERATOR_NATS_URL: 'nats://127.0.0.1:4222' }).natsUrl, 'nats://127.0.0.1:4222');
});

test('bad settings stop start-up with a clear message', () => {
  assert.throws(() => loadConfig(['--health-port', 'eighty'], {}), /healthPort/);
  assert.throws(() => loadConfig(['--renew-deadline-ms', '20000'], {}), /renewDeadlineMs must be less than leaseDurationMs/);
  assert.throws(() => loadConfig(['--no-such-flag'], {}), /Unknown option/);
});
