import { test } from 'node:test';
import assert from 'node:assert/strict';
import { natsUsers, passwordEnvOf } from '@chorus/shared/bus/nats-permissions';
import type { ChatCluster } from '../../src/api/chatcluster.js';
import { parseSpec } from '../../src/api/chatcluster-spec.js';
import { buildContext, type BuildContext } from '../../src/builders/build-context.js';
import { desiredState } from '../../src/builders/desired-state.js';
import { natsUsersSecret } from '../../src/builders/nats-users-secret.js';
import { preflightJob } from '../../src/builders/preflight-job.js';
import type { KubeObject } from '../../src/kube/kube-object.js';

function context(spec: unknown): BuildContext {
  const cr: ChatCluster = { apiVersion: 'chorus.dev/v1alpha1', kind: 'ChatCluster', metadata: { name: 'c1', namespace: 'team', uid: 'uid-1', generation: 1 }, spec };
  const parsed = parseSpec(cr.spec);
  assert.ok(parsed.ok);
  return buildContext(cr, parsed.spec);
}
const find = (objects: KubeObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name) as any;
const envOf = (workload: any) => workload.spec.template.spec.containers[0].env as { name: string; value?: string; valueFrom?: any }[];

test('the nats-users Secret: a random password per user and for the routes, different every time it is built', () => {
  const ctx = context({});
  const first = natsUsersSecret(ctx);
  const second = natsUsersSecret(ctx);
  assert.equal(first.metadata.name, 'c1-nats-users');
  const keys = [...natsUsers.map(passwordEnvOf), 'ROUTE_PASSWORD'];
  assert.deepEqual(Object.keys(first.stringData as object).sort(), keys.sort());
  for (const key of keys) {
    const value = (first.stringData as Record<string, string>)[key]!;
    assert.match(value, /^p[0-9a-f]{48}$/, 'starts with a letter: nats-server parses an env value as config');
    assert.notEqual(value, (second.stringData as Record<string, string>)[key]);
  }
});

test('nats.conf has every user with its permissions and no password; the NATS pods get them from the Secret', () => {
  const ctx = context({ nats: { replicas: 3 } });
  const objects = desiredState(ctx);
  const conf: string = find(objects, 'ConfigMap', 'c1-nats-config').data['nats.conf'];
  for (const user of natsUsers) assert.match(conf, new RegExp(`user: "${user}"\\s+password: \\$${passwordEnvOf(user)}\\b`));
  assert.match(conf, /authorization \{ user: route, password: \$ROUTE_PASSWORD \}/, 'routes must log in too');
  assert.doesNotMatch(conf, /p[0-9a-f]{48}/);
  const env = envOf(find(objects, 'StatefulSet', 'c1-nats'));
  for (const key of [...natsUsers.map(passwordEnvOf), 'ROUTE_PASSWORD']) {
    assert.deepEqual(env.find((e) => e.name === key)?.valueFrom, { secretKeyRef: { name: 'c1-nats-users', key } });
  }
  // ROUTE_URLS refers to ROUTE_PASSWORD, so it must come after it (Kubernetes expands earlier variables only).
  assert.ok(env.findIndex((e) => e.name === 'ROUTE_URLS') > env.findIndex((e) => e.name === 'ROUTE_PASSWORD'));
});

test('each Chorus workload connects as its own NATS user, its password from the Secret', () => {
  const ctx = context({});
  const objects = desiredState(ctx);
  const cases: [any, string][] = [
    [find(objects, 'Deployment', 'c1-gateway'), 'gateway'],
    [find(objects, 'Deployment', 'c1-message-service'), 'message-service'],
    [preflightJob(ctx), 'preflight'],
  ];
  for (const [workload, user] of cases) {
    const env = envOf(workload);
    assert.equal(env.find((e) => e.name === 'NATS_USER')?.value, user, workload.metadata.name);
    assert.deepEqual(env.find((e) => e.name === 'NATS_PASSWORD')?.valueFrom, { secretKeyRef: { name: 'c1-nats-users', key: passwordEnvOf(user as never) } });
  }
});
