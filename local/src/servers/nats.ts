import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
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

/** A real nats-server with JetStream (file storage under dataDir), on 127.0.0.1 only. */
export function startNats(options: { dataDir: string; port?: number; monitorPort?: number; logFile?: string }): Promise<RunningNats> {
  return startOnFreePorts(() => startNatsOnce(options));
}

async function startNatsOnce(options: { dataDir: string; port?: number; monitorPort?: number; logFile?: string }): Promise<RunningNats> {
  const port = options.port ?? (await freePort());
  const monitorPort = options.monitorPort ?? (await freePort());
  const storeDir = join(options.dataDir, 'jetstream');
  mkdirSync(storeDir, { recursive: true });
  const process = new ManagedProcess({
    name: 'nats-server',
    command: binaries.natsServer(),
    args: ['-js', '-sd', storeDir, '-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort)],
    ready: httpReady(monitorPort, '/healthz?js-enabled-only=true'),
    ...(options.logFile && { logFile: options.logFile }),
  });
  await process.start();
  return { url: `nats://127.0.0.1:${port}`, port, monitorPort, process, stop: () => process.stop() };
}
