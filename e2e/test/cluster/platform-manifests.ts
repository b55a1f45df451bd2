/**
 * What a test applies to get a platform in its namespace: FerretDB as the external MongoDB (no
 * mongod can be installed on these machines), the Secret with its URI, and a ChatCluster of
 * locally built images that pods never pull.
 */
import type { ClusterImages } from './cluster-images.js';

export interface ChatClusterOptions {
  name: string;
  images: ClusterImages;
  natsReplicas: 1 | 3;
  gatewayReplicas: number;
  loadtestArgs?: string[];
}

const restricted = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** The database and user FerretDB creates at its first start; the platform authenticates as this user. */
const ferretdbUser = 'chorus';

/** The URI of the test's FerretDB at `host` (the Service name, or a pod IP from the host), credentials included. */
export function ferretdbUri(host: string, password: string): string {
  return `mongodb://${ferretdbUser}:${encodeURIComponent(password)}@${host}:27017/${ferretdbUser}`;
}

/**
 * FerretDB on SQLite in an emptyDir, behind Service `ferretdb`, with authentication on (its
 * experimental SCRAM mode: without it any pod could read every room), and Secret `<name>-mongodb`
 * holding the password and the URI the ChatCluster reads.
 */
export function ferretdb(images: ClusterImages, secretName: string, password: string): Record<string, unknown>[] {
  const labels = { app: 'ferretdb' };
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'ferretdb', labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 },
            containers: [
              {
                name: 'ferretdb',
                image: images.ferretdb,
                imagePullPolicy: 'Never',
                args: [
                  '--handler=sqlite', '--sqlite-url=file:/data/', '--state-dir=/data',
                  '--listen-addr=:27017', '--debug-addr=:8088',
                  // Mandatory here: otherwise FerretDB reports to an outside host.
                  '--telemetry=disable', '--log-level=warn',
                  '--test-enable-new-auth', `--setup-database=${ferretdbUser}`, `--setup-username=${ferretdbUser}`,
                ],
                env: [{ name: 'FERRETDB_SETUP_PASSWORD', valueFrom: { secretKeyRef: { name: secretName, key: 'password' } } }],
                ports: [{ name: 'mongodb', containerPort: 27017 }],
                readinessProbe: { httpGet: { path: '/debug/readyz', port: 8088 }, periodSeconds: 2 },
                securityContext: restricted,
                volumeMounts: [{ name: 'data', mountPath: '/data' }],
              },
            ],
            volumes: [{ name: 'data', emptyDir: {} }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'ferretdb' },
      spec: { selector: labels, ports: [{ name: 'mongodb', port: 27017, targetPort: 'mongodb' }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: secretName },
      stringData: { password, uri: ferretdbUri('ferretdb', password) },
    },
  ];
}

export function chatCluster(options: ChatClusterOptions): Record<string, unknown> {
  const { images } = options;
  const [repository, tag] = images.chorus.split(/:(?=[^:]+$)/) as [string, string];
  return {
    apiVersion: 'chorus.dev/v1alpha1',
    kind: 'ChatCluster',
    metadata: { name: options.name },
    spec: {
      image: repository,
      version: tag,
      imagePullPolicy: 'Never',
      // The host reaches the gateways on the bridge address (kube-proxy serves NodePorts only there).
      // The test users and the load tester log in by name: dev mode, which is off by default.
      gateway: { replicas: options.gatewayReplicas, service: { type: 'NodePort' }, auth: { devLogin: true } },
      messageService: { minReplicas: 1, maxReplicas: 3 },
      nats: { image: images.nats, replicas: options.natsReplicas, storageSize: '1Gi' },
      redis: { image: images.redis },
      mongodb: { external: { uriSecretRef: { name: `${options.name}-mongodb` } } },
      loadtest: { enabled: options.loadtestArgs !== undefined, profile: 'steady', args: options.loadtestArgs ?? [] },
    },
  };
}

/** A kubectl-apply-able list (JSON is YAML). */
export function manifest(objects: Record<string, unknown>[]): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects });
}
