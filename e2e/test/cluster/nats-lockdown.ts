import type { KubeCluster } from './kube-cluster.js';

/** What one connection attempt of the probe pod ended with. */
export interface ProbeAttempt {
  label: string;
  connected: boolean;
  error?: string;
}

/**
 * Run inside the Chorus image (CommonJS, nats.js from the image's node_modules): connect to the
 * client port anonymously, as a guessed user and as `gateway` with a guessed password, then speak
 * the route protocol to port 6222 with a guessed route password. One JSON line of results.
 */
const probeScript = String.raw`
const { connect } = require('@nats-io/transport-node');
const net = require('node:net');
const clientUrl = process.env.PROBE_NATS_URL;
const routeHost = process.env.PROBE_ROUTE_HOST;
function routeLogin() {
  return new Promise((resolve) => {
    const socket = net.connect(6222, routeHost);
    let text = '';
    const done = (result) => { socket.destroy(); resolve(result); };
    socket.setTimeout(10000, () => done({ label: 'route with a guessed password', connected: false, error: 'timeout: ' + text }));
    socket.on('error', (e) => done({ label: 'route with a guessed password', connected: false, error: e.message }));
    socket.on('data', (chunk) => {
      text += chunk.toString();
      if (text.startsWith('INFO') && !socket.sentConnect) {
        socket.sentConnect = true;
        socket.write('CONNECT {"verbose":false,"pedantic":false,"user":"route","pass":"guess","tls_required":false,"name":"probe"}\r\nPING\r\n');
      }
      if (/-ERR/.test(text)) done({ label: 'route with a guessed password', connected: false, error: text.slice(text.indexOf('-ERR')).trim() });
      else if (/PONG/.test(text)) done({ label: 'route with a guessed password', connected: true });
    });
  });
}
(async () => {
  const results = [];
  for (const [label, auth] of [['anonymous', {}], ['guessed user admin', { user: 'admin', pass: 'admin' }], ['gateway with a guessed password', { user: 'gateway', pass: 'gateway' }]]) {
    try {
      const nc = await connect({ servers: clientUrl, timeout: 10000, maxReconnectAttempts: 0, ...auth });
      results.push({ label, connected: true });
      await nc.close();
    } catch (error) {
      results.push({ label, connected: false, error: String(error && error.message) });
    }
  }
  results.push(await routeLogin());
  console.log(JSON.stringify(results));
})();
`;

/**
 * A pod of the Chorus image with no NATS credentials tries the ChatCluster's NATS. It carries a
 * preflight pod's labels, so whatever the network lets reach NATS, this pod is let through too:
 * what refuses it is NATS's own authorization, which is what the test is about.
 */
export async function probeNatsWithoutCredentials(cluster: KubeCluster, namespace: string, chatCluster: string): Promise<ProbeAttempt[]> {
  const pod = `${chatCluster}-nats-probe`;
  const manifest = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: pod,
      namespace,
      labels: { 'app.kubernetes.io/name': 'chorus', 'app.kubernetes.io/instance': chatCluster, 'app.kubernetes.io/component': 'preflight' },
    },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'probe',
          image: cluster.images.chorus,
          imagePullPolicy: 'Never',
          command: ['node', '-e', probeScript],
          env: [
            { name: 'PROBE_NATS_URL', value: `nats://${chatCluster}-nats:4222` },
            { name: 'PROBE_ROUTE_HOST', value: `${chatCluster}-nats-0.${chatCluster}-nats-headless` },
          ],
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
        },
      ],
    },
  };
  await cluster.kc(['-n', namespace, 'create', '-f', '-'], JSON.stringify(manifest));
  try {
    const waited = await cluster.kubectl(['-n', namespace, 'wait', '--for=jsonpath={.status.phase}=Succeeded', `pod/${pod}`, '--timeout=120s']);
    if (waited.code !== 0) {
      const logs = await cluster.kubectl(['-n', namespace, 'logs', pod]);
      throw new Error(`the probe pod did not succeed: ${waited.stderr.trim()}\n${logs.stdout}${logs.stderr}`);
    }
    const log = await cluster.kc(['-n', namespace, 'logs', pod]);
    const line = log.trim().split('\n').at(-1) ?? '';
    return JSON.parse(line) as ProbeAttempt[];
  } finally {
    await cluster.kubectl(['-n', namespace, 'delete', 'pod', pod, '--wait=false']);
  }
}
