import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { binaries } from './binaries.js';
import { freePort, startOnFreePorts } from './free-port.js';
import { httpReady, ManagedProcess } from './managed-process.js';

export interface RunningMongo {
  uri: string;
  process?: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * FerretDB (MongoDB wire protocol on SQLite) as the local MongoDB stand-in. Telemetry is disabled:
 * without the flag it tries to reach an outside host.
 */
export async function startFerretDb(options: { dataDir: string; port?: number; logFile?: string }): Promise<RunningMongo> {
  return startOnFreePorts(() => startFerretDbOnce(options));
}

async function startFerretDbOnce(options: { dataDir: string; port?: number; logFile?: string }): Promise<RunningMongo> {
  const port = options.port ?? (await freePort());
  const debugPort = await freePort();
  const sqliteDir = join(options.dataDir, 'sqlite');
  const stateDir = join(options.dataDir, 'state');
  mkdirSync(sqliteDir, { recursive: true });
  mkdirSync(stateDir, { recursive: true });
  const process = new ManagedProcess({
    name: 'ferretdb',
    command: binaries.ferretdb(),
    args: [
      '--handler=sqlite',
      `--sqlite-url=file:${sqliteDir}/`,
      `--listen-addr=127.0.0.1:${port}`,
      `--debug-addr=127.0.0.1:${debugPort}`,
      `--state-dir=${stateDir}`,
      '--telemetry=disable',
      '--log-level=warn',
    ],
    ready: httpReady(debugPort, '/debug/readyz'),
    ...(options.logFile && { logFile: options.logFile }),
  });
  try {
    await process.start();
  } catch (error) {
    await process.stop().catch(() => {});
    throw error;
  }
  return { uri: `mongodb://127.0.0.1:${port}/`, process, stop: () => process.stop() };
}

/** MONGODB_URI when set (a real mongod or cluster), otherwise a local FerretDB. */
export async function startMongo(options: { dataDir: string; port?: number; logFile?: string }): Promise<RunningMongo> {
  const external = process.env.MONGODB_URI;
  if (external) return { uri: external, stop: async () => {} };
  return startFerretDb(options);
}
