import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNats, type RunningNats } from '@chorus/local/servers/nats';
import { startFerretDb, type RunningMongo } from '@chorus/local/servers/ferretdb';

export interface Backends {
  nats: RunningNats;
  mongo: RunningMongo;
  dataDir: string;
  stop(): Promise<void>;
}

/** A real nats-server (JetStream) and FerretDB on free loopback ports, data in a temp dir. */
export async function startBackends(): Promise<Backends> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chorus-ms-'));
  const [natsStart, mongoStart] = await Promise.allSettled([
    startNats({ dataDir: join(dataDir, 'nats') }),
    startFerretDb({ dataDir: join(dataDir, 'mongo') }),
  ]);
  if (natsStart.status === 'rejected' || mongoStart.status === 'rejected') {
    // Stop the one that did start, or its child process keeps the test process alive.
    await Promise.all([natsStart, mongoStart].map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    rmSync(dataDir, { recursive: true, force: true });
    throw natsStart.status === 'rejected' ? natsStart.reason : (mongoStart as PromiseRejectedResult).reason;
  }
  const nats = natsStart.value;
  const mongo = mongoStart.value;
  return {
    nats,
    mongo,
    dataDir,
    stop: async () => {
      await Promise.all([nats.stop(), mongo.stop()]);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
