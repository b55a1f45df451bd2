/**
 * The single-node Kubernetes test cluster (scripts/cluster/up.sh, down.sh): real containerd,
 * kubelet, control plane, CoreDNS and local PersistentVolumes on this machine, started once per
 * test file that needs pods and always torn down afterwards. Tests isolate themselves by namespace.
 *
 *   const reason = await clusterUnavailable();      // why it cannot run here, or undefined
 *   const cluster = await startKubeCluster();       // imports the images, waits for CoreDNS
 *   await cluster.kc(['get', 'nodes']);             // kubectl that must succeed
 *   await cluster.stop();                           // down.sh: leaves nothing behind
 *
 * One cluster per machine (fixed bridge, addresses and ports): a second test run (another
 * worktree) waits for the machine lock, up to 15 minutes, then fails with the reason.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { binaries, cacheDir, repoRoot } from '@chorus/local/servers/binaries';
import { runCommand, type CommandResult } from '@chorus/local/servers/run-command';
import { clusterImages, type ClusterImages } from './cluster-images.js';

export const clusterDir = process.env.CHORUS_CLUSTER_DIR ?? '/var/tmp/chorus-cluster';
const scripts = join(repoRoot, 'scripts', 'cluster');

export interface KubeCluster {
  kubeconfigPath: string;
  images: ClusterImages;
  /** kubectl; never throws on a non-zero exit. */
  kubectl(args: string[], input?: string): Promise<CommandResult>;
  /** kubectl that must succeed; returns stdout. */
  kc(args: string[], input?: string): Promise<string>;
  /** helm that must succeed; returns stdout. */
  helm(args: string[]): Promise<string>;
  /** A fresh namespace for one test (deleted by stop, with the whole cluster). */
  namespace(prefix: string): Promise<string>;
  stop(): Promise<void>;
}

/** Why the cluster cannot run on this machine (not root, parts not built), or undefined. */
export async function clusterUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'the test cluster needs root (a bridge, iptables rules, mounts)';
  for (const tool of ['containerd', 'runc', 'ctr', 'iptables', 'buildah']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed; run scripts/bootstrap.sh cluster`;
  }
  try {
    binaries.kubectl();
    binaries.helm();
    binaries.etcd();
    const images = await clusterImages();
    const kubernetes = join(cacheDir, `kubernetes-${images.versions.KUBERNETES_VERSION}`);
    const parts = [
      ...['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy'].map((b) => join(kubernetes, b)),
      join(cacheDir, 'images', `pause-${images.versions.PAUSE_VERSION}.tar`),
      join(cacheDir, 'images', `coredns-${images.versions.COREDNS_VERSION}.tar`),
      ...Object.values(images.tars),
      images.chorusTar,
    ];
    for (const path of parts) {
      if (!existsSync(path)) return `${path} is missing; run scripts/bootstrap.sh cluster`;
    }
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  return undefined;
}

function script(name: string, args: string[] = [], timeoutMs = 300_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(scripts, name), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CHORUS_CLUSTER_DIR: clusterDir } });
    let output = '';
    const keep = (chunk: Buffer) => {
      output += chunk.toString();
      if (process.env.CHORUS_CLUSTER_VERBOSE) process.stderr.write(chunk);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`scripts/cluster/${name} failed (${code}):\n${output.split('\n').slice(-30).join('\n')}`));
    });
  });
}

const lockPath = join(cacheDir, 'test-cluster.lock');
const lockWaitMs = 15 * 60_000;

/**
 * Holds the machine's cluster lock while the returned release function is not called: a `flock`
 * child that keeps it as long as its stdin is open, so even a SIGKILLed test run releases it.
 */
function acquireMachineLock(): Promise<() => void> {
  const child = spawn('flock', ['-w', String(lockWaitMs / 1000), lockPath, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  // Closing stdin after flock has gone (e.g. killed) must not surface as an EPIPE error.
  child.stdin.on('error', () => {});
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.once('exit', () => reject(new Error(`another test cluster held ${lockPath} for ${lockWaitMs / 60_000} minutes`)));
    child.stdout.once('data', () => resolve(() => child.stdin.end()));
  });
}

// The host settings up.sh and the kubelet change (up.sh saves them, down.sh restores them).
const hostSysctls = [
  'net.ipv4.ip_forward', 'net.bridge.bridge-nf-call-iptables', 'vm.overcommit_memory', 'vm.panic_on_oom',
  'kernel.panic', 'kernel.panic_on_oops', 'kernel.keys.root_maxkeys', 'kernel.keys.root_maxbytes', 'net.ipv4.conf.all.route_localnet',
];
async function readSysctls(): Promise<string> {
  const { stdout } = await runCommand('sysctl', hostSysctls);
  return stdout;
}

/** Synchronous teardown for a test process that is being interrupted (no event loop to wait on). */
function tearDownNow(): void {
  spawnSync('bash', [join(scripts, 'down.sh')], { stdio: 'ignore', env: { ...process.env, CHORUS_CLUSTER_DIR: clusterDir }, timeout: 120_000 });
}

export async function startKubeCluster(): Promise<KubeCluster> {
  const images = await clusterImages();
  const release = await acquireMachineLock();
  const sysctlsBefore = await readSysctls();
  const onSignal = (signal: NodeJS.Signals) => {
    tearDownNow();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const forget = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    release();
  };
  try {
    await script('up.sh', [...Object.values(images.tars), images.chorusTar, ...(existsSync(images.jaegerTar) ? [images.jaegerTar] : [])]);
  } catch (error) {
    // A cluster that is already running belongs to someone else (started by hand): leave it alone.
    if (!(error instanceof Error && /another test cluster runs/.test(error.message))) await script('down.sh').catch(() => {});
    forget();
    throw error;
  }
  const kubeconfigPath = join(clusterDir, 'pki', 'admin.kubeconfig');
  const env = { ...process.env, KUBECONFIG: kubeconfigPath, HELM_CACHE_HOME: join(clusterDir, 'helm', 'cache'), HELM_CONFIG_HOME: join(clusterDir, 'helm', 'config'), HELM_DATA_HOME: join(clusterDir, 'helm', 'data') };
  const kubectl = (args: string[], input?: string) => runCommand(binaries.kubectl(), args, { env, ...(input !== undefined && { input }) });
  const must = async (what: string, result: Promise<CommandResult>, args: string[]) => {
    const { code, stdout, stderr } = await result;
    if (code !== 0) throw new Error(`${what} ${args.join(' ')} failed (${code}): ${stderr || stdout}`);
    return stdout;
  };
  let namespaces = 0;
  return {
    kubeconfigPath,
    images,
    kubectl,
    kc: (args, input) => must('kubectl', kubectl(args, input), args),
    helm: (args) => must('helm', runCommand(binaries.helm(), args, { env }), args),
    namespace: async (prefix) => {
      const name = `${prefix}-${process.pid}-${++namespaces}`;
      await must('kubectl', kubectl(['create', 'namespace', name]), ['create', 'namespace', name]);
      return name;
    },
    stop: async () => {
      try {
        await script('down.sh');
        await script('check-clean.sh');
        const sysctlsAfter = await readSysctls();
        if (sysctlsAfter !== sysctlsBefore) throw new Error(`host sysctls not restored:\nbefore\n${sysctlsBefore}after\n${sysctlsAfter}`);
      } finally {
        forget();
      }
    },
  };
}

export { cacheDir };
