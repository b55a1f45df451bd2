/**
 * A real Kubernetes API server backed by a real etcd, for tests (the envtest approach): no
 * scheduler, no kubelet, no controller-manager (so no garbage collector and no Deployment
 * controller). Everything listens on 127.0.0.1 free ports and lives under `dataDir`.
 *
 *   const kube = await startKubeApiServer({ dataDir });
 *   // kube.url            https://127.0.0.1:<port>
 *   // kube.kubeconfigPath a kubeconfig for kubectl, helm and @kubernetes/client-node (admin user)
 *   // kube.token          the admin's static bearer token (group system:masters)
 *   // kube.caPath         PEM of the self-signed serving certificate (also the CA)
 *   await kube.stop();
 *
 * Authorization is RBAC by default, so a test can check that a ServiceAccount's Role is enough by
 * using `serviceAccountToken` from the TokenRequest API; the admin bypasses it via system:masters.
 * Extra users: `users: [{ name, token, groups }]` become static-token users (e.g. to test a Role
 * bound to a User instead of a ServiceAccount).
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { binaries } from './binaries.js';
import { startEtcd, type RunningEtcd } from './etcd.js';
import { freePort } from './free-port.js';
import { ManagedProcess } from './managed-process.js';

const exec = promisify(execFile);

export interface StaticTokenUser {
  name: string;
  token: string;
  groups?: string[];
}

export interface KubeApiServerOptions {
  /** Working directory for etcd data, certificates, keys, the kubeconfig and logs. */
  dataDir: string;
  /** `RBAC` (default) or `AlwaysAllow`. */
  authorizationMode?: 'RBAC' | 'AlwaysAllow';
  /** Additional static-token users besides the admin. */
  users?: StaticTokenUser[];
  /** Log files; default <dataDir>/etcd.log and <dataDir>/kube-apiserver.log. */
  logDir?: string;
  /** Override the binaries (default: the cached builds from scripts/build-kube-apiserver.sh). */
  kubeApiserverBinary?: string;
  etcdBinary?: string;
  readyTimeoutMs?: number;
  /** More kube-apiserver flags, e.g. ['--watch-cache=false'] (watches straight from etcd). */
  extraArgs?: string[];
}

export interface RunningKubeApiServer {
  url: string;
  kubeconfigPath: string;
  /** The admin's bearer token (user "chorus-admin", group system:masters). */
  token: string;
  caPath: string;
  caPem: string;
  etcd: RunningEtcd;
  process: ManagedProcess;
  /** Writes a kubeconfig for another user/token (e.g. a ServiceAccount token) and returns its path. */
  writeKubeconfig(name: string, token: string): string;
  /** GET/POST/... against the API as the admin; resolves with status and parsed JSON body. */
  request(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

export async function startKubeApiServer(options: KubeApiServerOptions): Promise<RunningKubeApiServer> {
  const dir = options.dataDir;
  const logDir = options.logDir ?? dir;
  const pki = join(dir, 'pki');
  mkdirSync(pki, { recursive: true });

  // Serving certificate: self-signed for 127.0.0.1/localhost; clients trust it as their CA.
  const caPath = join(pki, 'serving.crt');
  const keyPath = join(pki, 'serving.key');
  await exec('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30',
    '-subj', '/CN=chorus-test-kube-apiserver', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', keyPath, '-out', caPath,
  ]);
  const caPem = readFileSync(caPath, 'utf8');

  // ServiceAccount token signing keys (the TokenRequest API needs them).
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const saKey = join(pki, 'sa.key');
  const saPub = join(pki, 'sa.pub');
  writeFileSync(saKey, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(saPub, publicKey.export({ type: 'spki', format: 'pem' }));

  const token = randomBytes(24).toString('hex');
  const users: StaticTokenUser[] = [{ name: 'chorus-admin', token, groups: ['system:masters'] }, ...(options.users ?? [])];
  const tokenFile = join(pki, 'tokens.csv');
  writeFileSync(
    tokenFile,
    users.map((u, i) => `${u.token},${u.name},uid-${i}${u.groups?.length ? `,"${u.groups.join(',')}"` : ''}`).join('\n') + '\n',
  );

  const etcd = await startEtcd({
    dataDir: dir,
    logFile: join(logDir, 'etcd.log'),
    ...(options.etcdBinary && { binary: options.etcdBinary }),
  });
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const apiRequest = makeRequester(port, token, caPem);
  const process = new ManagedProcess({
    name: 'kube-apiserver',
    command: options.kubeApiserverBinary ?? binaries.kubeApiserver(),
    args: [
      `--etcd-servers=${etcd.url}`,
      `--bind-address=127.0.0.1`,
      `--advertise-address=127.0.0.1`,
      `--secure-port=${port}`,
      `--cert-dir=${pki}`,
      `--tls-cert-file=${caPath}`,
      `--tls-private-key-file=${keyPath}`,
      `--token-auth-file=${tokenFile}`,
      `--authorization-mode=${options.authorizationMode ?? 'RBAC'}`,
      `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
      `--service-account-key-file=${saPub}`,
      `--service-account-signing-key-file=${saKey}`,
      `--service-cluster-ip-range=10.0.0.0/24`,
      `--allow-privileged=true`,
      // No controller-manager creates ServiceAccounts, so admitting pods would fail; nothing runs them anyway.
      `--disable-admission-plugins=ServiceAccount`,
      `--enable-priority-and-fairness=false`,
      `--profiling=false`,
      `--v=1`,
      ...(options.extraArgs ?? []),
    ],
    ready: async () => {
      const ready = await apiRequest('GET', '/readyz');
      if (ready.status !== 200) throw new Error(`readyz ${ready.status}`);
      const ns = await apiRequest('GET', '/api/v1/namespaces/default');
      if (ns.status !== 200) throw new Error('namespace default not created yet');
    },
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    logFile: join(logDir, 'kube-apiserver.log'),
  });
  try {
    await process.start();
  } catch (error) {
    await etcd.stop();
    throw error;
  }

  const writeKubeconfig = (name: string, userToken: string): string => {
    const path = join(dir, `kubeconfig-${name}.yaml`);
    writeFileSync(path, kubeconfigYaml(url, caPem, name, userToken), { mode: 0o600 });
    return path;
  };
  const kubeconfigPath = writeKubeconfig('admin', token);
  return {
    url,
    kubeconfigPath,
    token,
    caPath,
    caPem,
    etcd,
    process,
    writeKubeconfig,
    request: apiRequest,
    stop: async () => {
      await process.stop();
      await etcd.stop();
    },
  };
}

function kubeconfigYaml(server: string, caPem: string, user: string, token: string): string {
  // JSON is valid YAML; no YAML library needed here.
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'chorus-test', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
      users: [{ name: user, user: { token } }],
      contexts: [{ name: 'chorus-test', context: { cluster: 'chorus-test', user, namespace: 'default' } }],
      'current-context': 'chorus-test',
    },
    null,
    2,
  );
}

function makeRequester(port: number, token: string, ca: string) {
  return (method: string, path: string, body?: unknown) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path,
          method,
          ca,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(payload !== undefined && { 'content-type': 'application/json' }),
          },
          timeout: 10_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // plain-text endpoints such as /readyz
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      if (payload !== undefined) req.write(payload);
      req.end();
    });
}
