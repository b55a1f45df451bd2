import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { natsAuthorizationBlock, natsUsers, passwordEnvOf, type NatsUser } from '@chorus/shared/bus/nats-permissions';
import { binaries } from './binaries.js';
import { freePort, startOnFreePorts } from './free-port.js';
import { httpReady, ManagedProcess } from './managed-process.js';

export interface RunningNats {
  url: string;
  port: number;
  monitorPort: number;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export interface NatsOptions {
  dataDir: string;
  port?: number;
  monitorPort?: number;
  logFile?: string;
  /**
   * Each user's password: the server then runs with the users and permissions of
   * nats-permissions.ts, as a ChatCluster's does, and refuses anonymous clients. Absent: open.
   */
  passwords?: Record<NatsUser, string>;
}

/** A real nats-server with JetStream (file storage under dataDir), on 127.0.0.1 only. */
export function startNats(options: NatsOptions): Promise<RunningNats> {
  return startOnFreePorts(() => startNatsOnce(options));
}

async function startNatsOnce(options: NatsOptions): Promise<RunningNats> {
  const port = options.port ?? (await freePort());
  const monitorPort = options.monitorPort ?? (await freePort());
  const storeDir = join(options.dataDir, 'jetstream');
  mkdirSync(storeDir, { recursive: true });
  const args = ['-js', '-sd', storeDir, '-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort)];
  let env: NodeJS.ProcessEnv | undefined;
  if (options.passwords) {
    // The same authorization block the operator renders; the passwords come from the environment.
    const config = join(options.dataDir, 'nats.conf');
    writeFileSync(config, `${natsAuthorizationBlock()}\n`, { mode: 0o600 });
    args.unshift('-c', config);
    env = { ...process.env, ...Object.fromEntries(natsUsers.map((user) => [passwordEnvOf(user), options.passwords![user]])) };
  }
  const process_ = new ManagedProcess({
    name: 'nats-server',
    command: binaries.natsServer(),
    args,
    ...(env && { env }),
    ready: httpReady(monitorPort, '/healthz?js-enabled-only=true'),
    ...(options.logFile && { logFile: options.logFile }),
  });
  await process_.start();
  return { url: `nats://127.0.0.1:${port}`, port, monitorPort, process: process_, stop: () => process_.stop() };
}
