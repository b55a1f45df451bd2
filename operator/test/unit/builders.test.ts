import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatCluster } from '../../src/api/chatcluster.js';
import { parseSpec } from '../../src/api/chatcluster-spec.js';
import { buildContext } from '../../src/builders/build-context.js';
import { desiredState } from '../../src/builders/desired-state.js';
import { natsConfig } from '../../src/builders/nats.js';
import { tokenSecret } from '../../src/builders/token-secret.js';
import type { KubeObject } from '../../src/kube/kube-object.js';

function cluster(spec: unknown, status: ChatCluster['status'] = {}): ChatCluster {
  return {
    apiVersion: 'chorus.dev/v1alpha1',
    kind: 'ChatCluster',
    metadata: { name: 'c1', namespace: 'team', uid: 'uid-1', generation: 1 },
    spec,
    status,
  };
}

function build(spec: unknown, status?: ChatCluster['status']): KubeObject[] {
  const cr = cluster(spec, status);
  const parsed = parseSpec(cr.spec);
  assert.ok(parsed.ok, !parsed.ok ? parsed.message : '');
  return desiredState(buildContext(cr, parsed.spec));
}

const find = (objects: KubeObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name) as any;

test('defaults: the full set of children, each owned by the ChatCluster and labelled', () => {
  const objects = build({});
  const ids = objects.map((o) => `${o.kind}/${o.metadata.name}`);
  for (const id of [
    'ConfigMap/c1-config',
    'ConfigMap/c1-nats-config',
    'Service/c1-nats',
    'Service/c1-nats-headless',
    'StatefulSet/c1-nats',
    'Service/c1-redis',
    'Service/c1-redis-headless',
    'StatefulSet/c1-redis',
    'Service/c1-mongodb-headless',
    'StatefulSet/c1-mongodb',
    'Service/c1-gateway',
    'Deployment/c1-gateway',
    'Deployment/c1-message-service',
    'PodDisruptionBudget/c1-gateway',
    'PodDisruptionBudget/c1-message-service',
    'PodDisruptionBudget/c1-nats',
    'PodDisruptionBudget/c1-mongodb',
    'PodDisruptionBudget/c1-redis',
  ]) {
    assert.ok(ids.includes(id), `missing ${id}`);
  }
  assert.ok(ids.some((id) => id.startsWith('Job/c1-mongodb-init-')));
  assert.ok(!ids.some((id) => id.includes('loadtest') || id.startsWith('Ingress/')), 'no optional children by default');
  assert.equal(new Set(ids).size, ids.length, 'names are unique per kind');
  for (const o of objects) {
    assert.equal(o.metadata.namespace, 'team');
    assert.deepEqual(o.metadata.ownerReferences, [{ apiVersion: 'chorus.dev/v1alpha1', kind: 'ChatCluster', name: 'c1', uid: 'uid-1', controller: true, blockOwnerDeletion: true }]);
    assert.equal(o.metadata.labels?.['app.kubernetes.io/instance'], 'c1');
  }
});

test('gateway and message-service follow the pod env contract', () => {
  const objects = build({ version: '1.2.3', tracing: { otlpEndpoint: 'http://otel:4318' } });
  const gw = find(objects, 'Deployment', 'c1-gateway').spec.template.spec.containers[0];
  assert.equal(gw.image, 'ghcr.io/chorus-chat/chorus:1.2.3');
  assert.equal(gw.workingDir, '/app');
  const env = Object.fromEntries(gw.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
  assert.equal(env.PORT, '8080');
  assert.equal(env.OTEL_SERVICE_NAME, 'chorus-gateway');
  assert.deepEqual(gw.envFrom, [{ configMapRef: { name: 'c1-config' } }]);
  const config = find(objects, 'ConfigMap', 'c1-config').data;
  assert.equal(config.REDIS_URL, 'redis://c1-redis.team.svc:6379');
  assert.equal(config.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://otel:4318');
  assert.equal(config.MONGODB_DB, 'chorus');
  const ms = find(objects, 'Deployment', 'c1-message-service').spec.template.spec.containers[0];
  assert.deepEqual(ms.command, ['node', 'message-service/dist/src/main.js']);
  assert.equal(ms.env.find((e: any) => e.name === 'METRICS_PORT').value, '9464');
  assert.equal(ms.readinessProbe.httpGet.port, 'metrics');
});

test('identity: by default jwt mode with the generated HS256 Secret, iss/aud chorus, and no dev login', () => {
  const gw = find(build({}), 'Deployment', 'c1-gateway').spec.template.spec.containers[0];
  const env = Object.fromEntries(gw.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
  assert.equal(env.AUTH_MODE, 'jwt');
  assert.deepEqual(env.AUTH_HS256_SECRET, { secretKeyRef: { name: 'c1-token', key: 'CHORUS_TOKEN_SECRET' } });
  assert.equal(env.AUTH_ISSUER, 'chorus');
  assert.equal(env.AUTH_AUDIENCE, 'chorus');
  assert.equal(env.AUTH_USER_CLAIM, 'sub');
  assert.equal(env.AUTH_JWKS_URL, undefined);
  assert.equal(env.ALLOWED_ORIGINS, undefined);
  assert.deepEqual(env.ADMIN_TOKEN, { secretKeyRef: { name: 'c1-admin', key: 'ADMIN_TOKEN' } });
  assert.equal(env.CHORUS_TOKEN_SECRET, undefined, 'the old variable is gone');
});

test('identity: devLogin, an identity provider (JWKS only), a backend Secret, origins', () => {
  const envOf = (auth: unknown) => {
    const gw = find(build({ gateway: { auth } }), 'Deployment', 'c1-gateway').spec.template.spec.containers[0];
    return Object.fromEntries(gw.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
  };
  assert.equal(envOf({ devLogin: true }).AUTH_MODE, 'dev');
  const idp = envOf({ jwksUrl: 'https://idp.example/jwks.json', issuer: 'https://idp.example/', audience: 'chat', userClaim: 'preferred_username', allowedOrigins: ['https://chat.example.com', 'https://m.example.com'] });
  assert.equal(idp.AUTH_MODE, 'jwt');
  assert.equal(idp.AUTH_JWKS_URL, 'https://idp.example/jwks.json');
  assert.equal(idp.AUTH_HS256_SECRET, undefined, 'JWKS only: no shared secret');
  assert.equal(idp.AUTH_ISSUER, 'https://idp.example/');
  assert.equal(idp.AUTH_USER_CLAIM, 'preferred_username');
  assert.equal(idp.ALLOWED_ORIGINS, 'https://chat.example.com,https://m.example.com');
  assert.deepEqual(envOf({ hs256SecretRef: { name: 'backend-jwt' } }).AUTH_HS256_SECRET, { secretKeyRef: { name: 'backend-jwt', key: 'secret' } });
});

test('identity: contradictory settings are refused with a clear message', () => {
  const refused = (spec: unknown) => {
    const parsed = parseSpec(spec);
    assert.equal(parsed.ok, false);
    return (parsed as { message: string }).message;
  };
  assert.match(refused({ gateway: { auth: { devLogin: true, jwksUrl: 'https://idp.example/jwks' } } }), /do not apply with gateway.auth.devLogin/);
  assert.match(refused({ gateway: { auth: { jwksUrl: 'http://idp.example/jwks' } } }), /jwksUrl: an https:\/\/ URL/);
  assert.match(refused({ gateway: { auth: { allowedOrigins: ['https://chat.example.com/path'] } } }), /allowedOrigins/);
  assert.match(refused({ loadtest: { enabled: true } }), /loadtest.enabled needs gateway.auth.devLogin/);
});

test('/metrics is on a port of its own: the public Service and Ingress carry only http', () => {
  const objects = build({ gateway: { ingress: { host: 'chat.example.com' } } });
  assert.deepEqual(find(objects, 'Service', 'c1-gateway').spec.ports.map((p: any) => p.name), ['http']);
  assert.equal(find(objects, 'Ingress', 'c1-gateway').spec.rules[0].http.paths[0].backend.service.port.name, 'http');
  const metrics = find(objects, 'Service', 'c1-gateway-metrics');
  assert.deepEqual(metrics.spec.ports, [{ name: 'metrics', port: 9464, targetPort: 'metrics', protocol: 'TCP' }]);
  assert.equal(metrics.spec.type, 'ClusterIP');
  const gw = find(objects, 'Deployment', 'c1-gateway').spec.template.spec.containers[0];
  assert.deepEqual(gw.ports.map((p: any) => [p.name, p.containerPort]), [['http', 8080], ['metrics', 9464]]);
  assert.equal(gw.env.find((e: any) => e.name === 'METRICS_PORT').value, '9464');
});

test('spec.limits reach both services as env in the shared ConfigMap; absent ones are left to the defaults', () => {
  const config = find(build({ limits: { socketSendsPerSec: 5, socketsPerUser: 3, roomsCreatedPerHour: 10, httpMaxBodyBytes: 2048 } }), 'ConfigMap', 'c1-config').data;
  assert.equal(config.LIMIT_SOCKET_SENDS_PER_SEC, '5');
  assert.equal(config.LIMIT_SOCKETS_PER_USER, '3');
  assert.equal(config.LIMIT_ROOMS_CREATED_PER_HOUR, '10');
  assert.equal(config.HTTP_MAX_BODY_BYTES, '2048');
  assert.equal(config.LIMIT_USER_SENDS_PER_SEC, undefined);
  assert.equal(Object.keys(find(build({}), 'ConfigMap', 'c1-config').data).some((k) => k.startsWith('LIMIT_')), false);
  assert.equal(parseSpec({ limits: { socketsPerUser: 0 } }).ok, false, 'validated like the services validate it');
});

test('message-service replicas: the autopilot choice clamped to min/max, else minReplicas', () => {
  const spec = { messageService: { minReplicas: 2, maxReplicas: 5 } };
  const replicas = (status?: ChatCluster['status']) => find(build(spec, status), 'Deployment', 'c1-message-service').spec.replicas;
  assert.equal(replicas(), 2);
  assert.equal(replicas({ autopilot: { desiredReplicas: 4 } }), 4);
  assert.equal(replicas({ autopilot: { desiredReplicas: 40 } }), 5);
  assert.equal(replicas({ autopilot: { desiredReplicas: 1 } }), 2);
});

test('NATS: routes only when clustered; quorum PDB', () => {
  const single = natsConfig(buildContext(cluster({}), (parseSpec({}) as any).spec));
  assert.doesNotMatch(single, /cluster \{/);
  assert.match(single, /max_file_store: 1G/);
  // nats-server refuses to load a config with a lame-duck duration below 30 s.
  assert.match(single, /lame_duck_duration: 30s/);
  const objects = build({ nats: { replicas: 5, storageSize: '10Gi' } });
  const conf = find(objects, 'ConfigMap', 'c1-nats-config').data['nats.conf'];
  assert.match(conf, /routes: \$ROUTE_URLS/);
  // The route URLs carry the route password: they are in the pod's env, expanded by Kubernetes.
  const routes = find(objects, 'StatefulSet', 'c1-nats').spec.template.spec.containers[0].env.find((e: any) => e.name === 'ROUTE_URLS').value;
  assert.equal((routes.match(/"nats:\/\/route:\$\(ROUTE_PASSWORD\)@c1-nats-\d\.c1-nats-headless\.team\.svc:6222"/g) ?? []).length, 5);
  assert.equal(find(objects, 'PodDisruptionBudget', 'c1-nats').spec.minAvailable, 3);
  assert.equal(find(objects, 'StatefulSet', 'c1-nats').spec.volumeClaimTemplates[0].spec.resources.requests.storage, '10Gi');
  assert.ok(find(objects, 'StatefulSet', 'c1-nats').spec.template.spec.terminationGracePeriodSeconds > 30, 'lame duck mode ends before SIGKILL');
  assert.equal(find(objects, 'ConfigMap', 'c1-config').data.JETSTREAM_REPLICAS, '5', 'the stream is replicated like the NATS cluster');
  assert.equal(find(objects, 'ConfigMap', 'c1-config').data.STREAM_MAX_BYTES, String(5 * 2 ** 30), 'and fits in half of each store');
});

test('external MongoDB: no StatefulSet, URI from the Secret', () => {
  const objects = build({ mongodb: { external: { uriSecretRef: { name: 'db', key: 'url' } } } });
  assert.equal(find(objects, 'StatefulSet', 'c1-mongodb'), undefined);
  assert.equal(objects.filter((o) => o.kind === 'Job').length, 0);
  assert.equal(find(objects, 'ConfigMap', 'c1-config').data.MONGODB_URI, undefined);
  const ms = find(objects, 'Deployment', 'c1-message-service').spec.template.spec.containers[0];
  assert.deepEqual(ms.env.find((e: any) => e.name === 'MONGODB_URI').valueFrom.secretKeyRef, { name: 'db', key: 'url' });
});

test('ingress, service type and load tester when asked for', () => {
  const objects = build({
    gateway: { service: { type: 'LoadBalancer', port: 80 }, ingress: { host: 'chat.example.com', className: 'nginx' }, auth: { devLogin: true } },
    loadtest: { enabled: true, profile: 'new-year', args: ['--users', '50'] },
  });
  assert.equal(find(objects, 'Service', 'c1-gateway').spec.type, 'LoadBalancer');
  const ingress = find(objects, 'Ingress', 'c1-gateway');
  assert.equal(ingress.spec.rules[0].host, 'chat.example.com');
  assert.equal(ingress.spec.ingressClassName, 'nginx');
  const job = objects.find((o) => o.kind === 'Job' && o.metadata.name!.startsWith('c1-loadtest-')) as any;
  assert.deepEqual(job.spec.template.spec.containers[0].command, ['loadtest', 'new-year', '--gateway', 'http://c1-gateway:80', '--users', '50']);
  // Created with the platform: it waits for a ready gateway before the run.
  const wait = job.spec.template.spec.initContainers[0];
  assert.deepEqual(wait.command.slice(0, 2), ['node', '-e']);
  assert.match(wait.command[2], /\/readyz/);
  assert.equal(wait.env.find((e: any) => e.name === 'LOADTEST_GATEWAY').value, 'http://c1-gateway:80');
  assert.equal(job.spec.template.spec.restartPolicy, 'Never');
  assert.deepEqual(find(objects, 'Deployment', 'c1-loadtest').spec.template.spec.containers[0].command, ['node', '-e', 'setInterval(() => {}, 1 << 30)']);
});

test('a config change changes the pod template hash (rolls pods); an unrelated one does not', () => {
  const hash = (spec: unknown) => find(build(spec), 'Deployment', 'c1-gateway').spec.template.metadata.annotations['chorus.dev/config-hash'];
  assert.notEqual(hash({ logLevel: 'info' }), hash({ logLevel: 'debug' }));
  assert.equal(hash({ gateway: { replicas: 2 } }), hash({ gateway: { replicas: 7 } }));
});

test('builders are deterministic (idempotent applies); the token Secret is random per creation', () => {
  assert.deepEqual(build({ nats: { replicas: 3 } }), build({ nats: { replicas: 3 } }));
  const ctx = buildContext(cluster({}), (parseSpec({}) as any).spec);
  assert.notEqual((tokenSecret(ctx) as any).stringData.CHORUS_TOKEN_SECRET, (tokenSecret(ctx) as any).stringData.CHORUS_TOKEN_SECRET);
});

test('every pod template is restricted and has resources', () => {
  const objects = build({ gateway: { auth: { devLogin: true } }, loadtest: { enabled: true } });
  for (const o of objects.filter((x) => ['Deployment', 'StatefulSet', 'Job'].includes(x.kind)) as any[]) {
    const pod = o.spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true, o.metadata.name);
    assert.equal(pod.automountServiceAccountToken, false);
    for (const c of pod.containers) {
      assert.equal(c.securityContext.readOnlyRootFilesystem, true, `${o.metadata.name}/${c.name}`);
      assert.equal(c.securityContext.allowPrivilegeEscalation, false);
      assert.ok(c.resources.requests.cpu && c.resources.limits.memory, `${o.metadata.name} resources`);
    }
  }
});
