import type { KubeCluster } from './kube-cluster.js';

/** What one connection attempt of the probe pod ended with. */
export interface ProbeAttempt {
  service: 'nats' | 'redis' | 'mongodb';
  label: string;
  connected: boolean;
  error?: string;
}

/**
 * Run inside the Chorus image (CommonJS, nats.js and the MongoDB driver from the image's
 * node_modules). NATS: connect anonymously, as a guessed user and as `gateway` with a guessed
 * password, then speak the route protocol to port 6222 with a guessed route password. Redis: a
 * command without AUTH, then AUTH with a guessed password (raw RESP, so no client library retries
 * or hides the reply). MongoDB: a read without credentials and with a guessed password. One JSON
 * line of results.
 */
const probeScript = String.raw`
const { connect } = require('@nats-io/transport-node');
const { MongoClient } = require('mongodb');
const net = require('node:net');
const env = process.env;
// One TCP exchange: onData is called once connected (text '') and with all text so far on each chunk; it settles with done().
function exchange(service, label, port, host, onData) {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    let text = '';
    const done = (result) => { socket.destroy(); resolve({ service, label, ...result }); };
    socket.setTimeout(10000, () => done({ connected: false, error: 'timeout: ' + text }));
    socket.on('error', (e) => done({ connected: false, error: e.message }));
    socket.on('connect', () => onData(socket, '', done));
    socket.on('data', (chunk) => { text += chunk.toString(); onData(socket, text, done); });
  });
}
const routeLogin = () => exchange('nats', 'route with a guessed password', 6222, env.PROBE_ROUTE_HOST, (socket, text, done) => {
  if (text.startsWith('INFO') && !socket.sentConnect) {
    socket.sentConnect = true;
    socket.write('CONNECT {"verbose":false,"pedantic":false,"user":"route","pass":"guess","tls_required":false,"name":"probe"}\r\nPING\r\n');
  }
  if (/-ERR/.test(text)) done({ connected: false, error: text.slice(text.indexOf('-ERR')).trim() });
  else if (/PONG/.test(text)) done({ connected: true });
});
const redisCommand = (label, command) => exchange('redis', label, 6379, env.PROBE_REDIS_HOST, (socket, text, done) => {
  if (text === '') return socket.write(command);
  if (!text.includes('\r\n')) return;
  const reply = text.split('\r\n')[0];
  if (reply.startsWith('-')) done({ connected: false, error: reply.slice(1) });
  else done({ connected: true });
});
async function mongoRead(label, url) {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 10000, directConnection: true });
  try {
    await client.db('chorus').collection('messages').findOne({});
    return { service: 'mongodb', label, connected: true };
  } catch (error) {
    return { service: 'mongodb', label, connected: false, error: String(error && error.message) };
  } finally {
    await client.close().catch(() => {});
  }
}
(async () => {
  const results = [];
  for (const [label, auth] of [['anonymous', {}], ['guessed user admin', { user: 'admin', pass: 'admin' }], ['gateway with a guessed password', { user: 'gateway', pass: 'gateway' }]]) {
    try {
      const nc = await connect({ servers: env.PROBE_NATS_URL, timeout: 10000, maxReconnectAttempts: 0, ...auth });
      results.push({ service: 'nats', label, connected: true });
      await nc.close();
    } catch (error) {
      results.push({ service: 'nats', label, connected: false, error: String(error && error.message) });
    }
  }
  results.push(await routeLogin());
  results.push(await redisCommand('a command without a password', 'GET probe\r\n'));
  results.push(await redisCommand('AUTH with a guessed password', 'AUTH guess\r\n'));
  results.push(await mongoRead('a read without credentials', 'mongodb://' + env.PROBE_MONGODB_HOST + '/chorus'));
  results.push(await mongoRead('a read with a guessed password', 'mongodb://chorus:guess@' + env.PROBE_MONGODB_HOST + '/chorus'));
  console.log(JSON.stringify(results));
})();
`;

/**
 * A pod of the Chorus image with no credentials tries the ChatCluster's NATS and Redis and the
 * MongoDB it uses (`mongodbHost`). It carries a preflight pod's labels, so whatever the network
 * lets reach them, this pod is let through too: what refuses it is each server's own
 * authentication, which is what the test is about.
 */
export async function probeInternalsWithoutCredentials(cluster: KubeCluster, namespace: string, chatCluster: string, mongodbHost: string): Promise<ProbeAttempt[]> {
  const pod = `${chatCluster}-internals-probe`;
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
            { name: 'PROBE_REDIS_HOST', value: `${chatCluster}-redis` },
            { name: 'PROBE_MONGODB_HOST', value: mongodbHost },
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
