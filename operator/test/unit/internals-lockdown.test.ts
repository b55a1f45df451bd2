import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatCluster } from '../../src/api/chatcluster.js';
import { parseSpec } from '../../src/api/chatcluster-spec.js';
import { buildContext, type BuildContext } from '../../src/builders/build-context.js';
import { desiredState } from '../../src/builders/desired-state.js';
import { mongodbAuthSecret } from '../../src/builders/mongodb-secrets.js';
import { mongodStartScript } from '../../src/builders/mongodb.js';
import { networkPolicies } from '../../src/builders/network-policies.js';
import { preflightJob } from '../../src/builders/preflight-job.js';
import { redisSecret } from '../../src/builders/redis-secret.js';
import { createOnceSecretNames, createOnceSecrets } from '../../src/builders/token-secret.js';
import { loadConfig } from '../../src/config.js';
import type { KubeObject } from '../../src/kube/kube-object.js';
import { allowlistViolations } from '../../src/reconcile/allowlist.js';

function context(spec: unknown, extra: Parameters<typeof buildContext>[2] = {}): BuildContext {
  const cr: ChatCluster = { apiVersion: 'chorus.dev/v1alpha1', kind: 'ChatCluster', metadata: { name: 'c1', namespace: 'team', uid: 'uid-1', generation: 1 }, spec };
  const parsed = parseSpec(cr.spec);
  assert.ok(parsed.ok, !parsed.ok ? parsed.message : '');
  return buildContext(cr, parsed.spec, extra);
}

const find = (objects: KubeObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name) as any;
const container = (workload: any) => workload.spec.template.spec.containers[0];
const envOf = (c: any, name: string) => c.env.find((e: any) => e.name === name);
const stringData = (secret: KubeObject) => (secret as unknown as { stringData: Record<string, string> }).stringData;

test('Redis: a generated password in a create-once Secret, read from a mounted file; AOF on a PVC; probes authenticate', () => {
  const ctx = context({});
  const secret = redisSecret(ctx);
  assert.equal(secret.metadata.name, 'c1-redis');
  const { REDIS_PASSWORD: password, 'redis.conf': conf } = stringData(secret);
  assert.ok(password && password.length >= 32);
  assert.equal(conf, `requirepass ${password}\n`);
  assert.notEqual(stringData(redisSecret(ctx)).REDIS_PASSWORD, password, 'random on every render (so it is created once, never re-applied)');

  const objects = desiredState(ctx);
  const redis = find(objects, 'StatefulSet', 'c1-redis');
  const c = container(redis);
  assert.deepEqual(c.args, ['redis-server', '/etc/redis/redis.conf', '--dir', '/data', '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '']);
  assert.ok(!JSON.stringify(redis).includes(password), 'the password is nowhere in the pod spec');
  assert.ok(!JSON.stringify(objects).includes('protected-mode'));
  assert.deepEqual(c.livenessProbe.exec.command, ['redis-cli', '-e', 'ping'], '-e: an error reply such as NOAUTH fails the probe');
  assert.deepEqual(envOf(c, 'REDISCLI_AUTH').valueFrom.secretKeyRef, { name: 'c1-redis', key: 'REDIS_PASSWORD' });
  const config = redis.spec.template.spec.volumes.find((v: any) => v.name === 'config');
  assert.deepEqual(config.secret.items, [{ key: 'redis.conf', path: 'redis.conf' }]);
  assert.equal(redis.spec.template.spec.volumes.some((v: any) => v.name === 'data'), false, 'no emptyDir for the data');
  assert.equal(redis.spec.volumeClaimTemplates[0].metadata.name, 'data');
  assert.equal(redis.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '1Gi');
  assert.equal(find(desiredState(context({ redis: { storageSize: '3Gi', storageClassName: 'fast' } })), 'StatefulSet', 'c1-redis').spec.volumeClaimTemplates[0].spec.storageClassName, 'fast');

  // Every Redis client gets the password by secretKeyRef; the ConfigMap holds only the URL.
  assert.equal(find(objects, 'ConfigMap', 'c1-config').data.REDIS_PASSWORD, undefined);
  assert.deepEqual(envOf(container(find(objects, 'Deployment', 'c1-gateway')), 'REDIS_PASSWORD').valueFrom.secretKeyRef, { name: 'c1-redis', key: 'REDIS_PASSWORD' });
  assert.deepEqual(envOf(container(preflightJob(ctx)), 'REDIS_PASSWORD').valueFrom.secretKeyRef, { name: 'c1-redis', key: 'REDIS_PASSWORD' });
});

test('MongoDB in-cluster: root user and key file from a create-once Secret; MONGODB_URI from a Secret, not the ConfigMap', () => {
  const auth = stringData(mongodbAuthSecret(context({})));
  assert.equal(auth.username, 'root');
  assert.ok(auth.password!.length >= 32 && /^[A-Za-z0-9_-]+$/.test(auth.password!));
  assert.ok(auth.keyfile!.length >= 6 && auth.keyfile!.length <= 1024 && /^[A-Za-z0-9+/=]+$/.test(auth.keyfile!));

  const ctx = context({ mongodb: { replicas: 3 } }, { mongodbPassword: 'pw-1' });
  const objects = desiredState(ctx);
  assert.equal(find(objects, 'ConfigMap', 'c1-config').data.MONGODB_URI, undefined);
  const uri = find(objects, 'Secret', 'c1-mongodb-uri').stringData.uri as string;
  assert.equal(
    uri,
    'mongodb://root:pw-1@c1-mongodb-0.c1-mongodb-headless.team.svc:27017,c1-mongodb-1.c1-mongodb-headless.team.svc:27017,c1-mongodb-2.c1-mongodb-headless.team.svc:27017/?replicaSet=rs0&authSource=admin',
  );
  for (const c of [container(find(objects, 'Deployment', 'c1-message-service')), container(preflightJob(ctx))]) {
    assert.deepEqual(envOf(c, 'MONGODB_URI').valueFrom.secretKeyRef, { name: 'c1-mongodb-uri', key: 'uri' });
  }
  const mongo = find(objects, 'StatefulSet', 'c1-mongodb');
  const mongod = container(mongo);
  assert.deepEqual(mongod.command, ['sh', '-c', mongodStartScript]);
  assert.match(mongodStartScript, /exec mongod --replSet rs0 --bind_ip_all --dbpath \/data\/db --keyFile \/var\/run\/mongodb-keyfile\/keyfile$/);
  assert.match(mongodStartScript, /createUser/);
  assert.deepEqual(envOf(mongod, 'MONGO_ROOT_PASSWORD').valueFrom.secretKeyRef, { name: 'c1-mongodb-auth', key: 'password' });
  const init = mongo.spec.template.spec.initContainers[0];
  assert.match(init.command[2], /chmod 0400/);
  assert.ok(!JSON.stringify(mongo).includes('pw-1'));
  const job = objects.find((o) => o.kind === 'Job' && o.metadata.name!.startsWith('c1-mongodb-init-')) as any;
  assert.match(container(job).command[2], /-u "\$MONGO_ROOT_USERNAME" -p "\$MONGO_ROOT_PASSWORD" --authenticationDatabase admin/);

  // Until the auth Secret exists there is no password, and so no URI Secret yet.
  assert.equal(find(desiredState(context({})), 'Secret', 'c1-mongodb-uri'), undefined);
  // External: the user's Secret, and no auth Secret of ours.
  const external = context({ mongodb: { external: { uriSecretRef: { name: 'db' } } } });
  assert.deepEqual(createOnceSecrets.map((b) => b(external)?.metadata.name).filter(Boolean), ['c1-token', 'c1-admin', 'c1-redis', 'c1-nats-users']);
  assert.deepEqual(createOnceSecrets.map((b) => b(context({}))?.metadata.name), ['c1-token', 'c1-admin', 'c1-redis', 'c1-nats-users', 'c1-mongodb-auth']);
  assert.deepEqual(createOnceSecretNames('c1'), ['c1-token', 'c1-admin', 'c1-redis', 'c1-nats-users', 'c1-mongodb-auth']);
});

const policiesOf = (spec: unknown, extra: Parameters<typeof buildContext>[2] = {}) =>
  Object.fromEntries(networkPolicies(context(spec, extra)).map((p: any) => [p.metadata.name.replace(/^c1-netpol-/, ''), p.spec])) as Record<string, any>;
const from = (c: string) => ({ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'chorus', 'app.kubernetes.io/instance': 'c1', 'app.kubernetes.io/component': c } } });
const tcp = (...ports: number[]) => ports.map((port) => ({ port, protocol: 'TCP' }));

test('NetworkPolicies: default deny in and out for the cluster\'s pods, then one policy per component', () => {
  const operator = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'chorus-system' } }, podSelector: { matchLabels: { 'app.kubernetes.io/component': 'operator' } } };
  const p = policiesOf({}, { operatorNamespace: 'chorus-system' });
  assert.deepEqual(Object.keys(p).sort(), ['default-deny', 'dns', 'gateway', 'message-service', 'mongodb', 'nats', 'preflight', 'redis']);
  assert.deepEqual(p['default-deny'], { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'chorus', 'app.kubernetes.io/instance': 'c1' } }, policyTypes: ['Ingress', 'Egress'], ingress: [], egress: [] });
  assert.deepEqual(p.dns.egress, [{ ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] }]);
  // Clients reach the gateway's HTTP port from anywhere; its metrics/admin port only from the operator's namespace.
  assert.deepEqual(p.gateway.ingress, [{ ports: tcp(8080) }, { from: [operator], ports: tcp(9464) }]);
  assert.deepEqual(p.gateway.egress, [{ to: [from('nats')], ports: tcp(4222) }, { to: [from('redis')], ports: tcp(6379) }]);
  assert.deepEqual(p['message-service'].egress, [{ to: [from('nats')], ports: tcp(4222) }, { to: [from('mongodb')], ports: tcp(27017) }]);
  assert.deepEqual(p.nats.ingress, [
    { from: [from('gateway'), from('message-service'), from('preflight'), operator], ports: tcp(4222) },
    { from: [operator], ports: tcp(8222) },
    { from: [from('nats')], ports: tcp(6222) },
  ]);
  assert.deepEqual(p.nats.egress, [{ to: [from('nats')], ports: tcp(6222) }]);
  assert.deepEqual(p.redis.ingress, [{ from: [from('gateway'), from('preflight')], ports: tcp(6379) }], 'the message-service never reaches Redis');
  assert.deepEqual(p.mongodb.ingress, [{ from: [from('message-service'), from('preflight'), from('mongodb')], ports: tcp(27017) }], 'the gateway never reaches MongoDB');
  assert.deepEqual(p.preflight.egress.map((r: any) => r.ports[0].port), [4222, 6379, 27017]);
  for (const policy of Object.values(p)) for (const rule of [...(policy.ingress ?? []), ...(policy.egress ?? [])]) {
    assert.ok(rule.ports.length > 0, 'every rule names its ports');
  }
});

test('NetworkPolicies: tracing, an identity provider, an external MongoDB and the load tester open their own paths', () => {
  const p = policiesOf({
    tracing: { otlpEndpoint: 'http://jaeger.tracing.svc:4318' },
    gateway: { auth: { devLogin: true } },
    mongodb: { external: { uriSecretRef: { name: 'db' } } },
    loadtest: { enabled: true },
  });
  assert.deepEqual(p.gateway.egress.at(-1), { ports: tcp(4318) });
  assert.deepEqual(p['message-service'].egress, [{ to: [from('nats')], ports: tcp(4222) }, { ports: tcp(27017) }, { ports: tcp(4318) }]);
  assert.equal(p.mongodb, undefined, 'no in-cluster MongoDB, no policy for it');
  assert.deepEqual(p.loadtest.egress, [{ to: [from('gateway')], ports: tcp(8080) }]);
  // Without its namespace the operator is any namespace's pod labelled component=operator.
  assert.deepEqual(p.nats.ingress[1].from, [{ namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/component': 'operator' } } }]);
  assert.deepEqual(policiesOf({ gateway: { auth: { jwksUrl: 'https://idp.example.com/jwks.json' } } }).gateway.egress.at(-1), { ports: tcp(443) });
});

test('allowlist: an image or Secret outside the administrator\'s prefixes is named by its field', () => {
  const spec = (raw: unknown) => { const parsed = parseSpec(raw); assert.ok(parsed.ok); return parsed.spec; };
  const allow = { images: ['registry.example.com/', 'nats:', 'redis:', 'mongo:'], secretPrefixes: ['{name}-', 'shared-db'] };
  assert.deepEqual(allowlistViolations(spec({ image: 'registry.example.com/chorus' }), 'c1', allow), []);
  assert.deepEqual(allowlistViolations(spec({}), 'c1', allow), [
    'spec.image: image ghcr.io/chorus-chat/chorus:0.1.0 is not allowed (allowed prefixes: registry.example.com/, nats:, redis:, mongo:)',
  ]);
  assert.deepEqual(
    allowlistViolations(spec({ image: 'registry.example.com/chorus', redis: { image: 'evil/redis:7' }, mongodb: { external: { uriSecretRef: { name: 'other-team-db' } } } }), 'c1', allow),
    [
      'spec.redis.image: image evil/redis:7 is not allowed (allowed prefixes: registry.example.com/, nats:, redis:, mongo:)',
      'spec.mongodb.external.uriSecretRef: Secret other-team-db is not allowed (allowed prefixes: c1-, shared-db)',
    ],
  );
  assert.deepEqual(allowlistViolations(spec({ image: 'registry.example.com/chorus', mongodb: { external: { uriSecretRef: { name: 'c1-mongodb' } } } }), 'c1', allow), []);
  assert.deepEqual(allowlistViolations(spec({ gateway: { auth: { hs256SecretRef: { name: 'c2-jwt' } } } }), 'c1', { images: [], secretPrefixes: ['{name}-'] }), [
    'spec.gateway.auth.hs256SecretRef: Secret c2-jwt is not allowed (allowed prefixes: c1-)',
  ]);
  assert.deepEqual(allowlistViolations(spec({ redis: { image: 'anything' } }), 'c1', { images: [], secretPrefixes: [] }), [], 'empty lists: no restriction');
});

test('config: the allowlist and the operator namespace from flags or env', () => {
  const fromEnv = loadConfig([], { CHORUS_OPERATOR_ALLOWED_IMAGES: 'a/, b:', CHORUS_OPERATOR_ALLOWED_SECRET_PREFIXES: '{name}-', POD_NAMESPACE: 'ops' });
  assert.deepEqual(fromEnv.allowedImages, ['a/', 'b:']);
  assert.deepEqual(fromEnv.allowedSecretPrefixes, ['{name}-']);
  assert.equal(fromEnv.operatorNamespace, 'ops');
  const fromFlags = loadConfig(['--allowed-images', 'x/', '--operator-namespace', 'o2'], {});
  assert.deepEqual(fromFlags.allowedImages, ['x/']);
  assert.deepEqual(fromFlags.allowedSecretPrefixes, []);
  assert.equal(fromFlags.operatorNamespace, 'o2');
});
