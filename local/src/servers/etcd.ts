import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { binaries } from './binaries.js';
import { freePort, startOnFreePorts } from './free-port.js';
import { httpReady, ManagedProcess } from './managed-process.js';

export interface RunningEtcd {
  /** Client URL, e.g. http://127.0.0.1:23790 (plain HTTP: only the local kube-apiserver talks to it). */
  url: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export interface EtcdOptions {
  /** Data goes to <dataDir>/etcd. */
  dataDir: string;
  logFile?: string;
  /** Defaults to the cached etcd built by scripts/build-kube-apiserver.sh. */
  binary?: string;
}

/** A single-member etcd on 127.0.0.1 free ports, as the backing store of a test kube-apiserver. */
export function startEtcd(options: EtcdOptions): Promise<RunningEtcd> {
  return startOnFreePorts(() => startEtcdOnce(options));
}

async function startEtcdOnce(options: EtcdOptions): Promise<RunningEtcd> {
  const clientPort = await freePort();
  const peerPort = await freePort();
  const dir = join(options.dataDir, 'etcd');
  mkdirSync(dir, { recursive: true });
  const url = `http://127.0.0.1:${clientPort}`;
  const process = new ManagedProcess({
    name: 'etcd',
    command: options.binary ?? binaries.etcd(),
    args: [
      '--data-dir', dir,
      '--listen-client-urls', url,
      '--advertise-client-urls', url,
      '--listen-peer-urls', `http://127.0.0.1:${peerPort}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
      '--initial-cluster', `default=http://127.0.0.1:${peerPort}`,
      '--unsafe-no-fsync', // test data; fsync on a shared disk only makes start-up slow
      '--log-level', 'warn',
    ],
    ready: httpReady(clientPort, '/health'),
    ...(options.logFile && { logFile: options.logFile }),
  });
  await process.start();
  return { url, process, stop: () => process.stop() };
}
