import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { consumerName, streamName } from '@chorus/shared/bus/names';
import { startFerretDb, type RunningMongo } from '@chorus/local/servers/ferretdb';
import { startMessageService, type MessageService } from '../src/service.js';
import type { MessageDoc } from '../src/collections.js';
import { startBackends, type Backends } from './support/backends.js';
import { capturedLogger } from './support/captured-logger.js';
import { enqueue, eventually, queued } from './support/messages.js';

let backends: Backends;
let restarted: RunningMongo | undefined;
let service: MessageService;
let nc: NatsConnection;
const logs = capturedLogger();

before(async () => {
  backends = await startBackends();
  service = await startMessageService({
    natsUrl: backends.nats.url,
    mongoUri: backends.mongo.uri,
    mongoDb: 'durable',
    logger: logs.log,
    statsIntervalMs: 0,
    // Fail fast while the database is down, so this test sees nak and redelivery in seconds.
    mongoOptions: { serverSelectionTimeoutMS: 300 },
  });
  nc = await connect({ servers: backends.nats.url });
});

after(async () => {
  await service?.close();
  await nc?.close();
  await restarted?.stop();
  await backends?.stop();
});

test('messages queued while the database is down are nak\'ed, redelivered and stored once it is back', async () => {
  const js = jetstream(nc);
  await Promise.all(Array.from({ length: 10 }, (_, i) => enqueue(js, queued('durable', i + 1))));
  await eventually(() => service.stats().processed === 10, 'first ten stored');

  await backends.mongo.stop();
  await Promise.all(Array.from({ length: 20 }, (_, i) => enqueue(js, queued('durable', 11 + i))));
  await eventually(() => service.stats().failed > 0, 'a failed write');
  assert.equal(service.ready(), false, 'not ready while the database is unreachable');

  const port = Number(new URL(backends.mongo.uri).port);
  restarted = await startFerretDb({ dataDir: join(backends.dataDir, 'mongo'), port });
  await eventually(() => service.stats().processed >= 30, 'all stored after the database came back', 30_000);

  const mongo = await new MongoClient(restarted.uri).connect();
  try {
    const docs = await mongo.db('durable').collection<MessageDoc>('messages').find({ room: 'durable' }).sort({ seq: 1 }).toArray();
    assert.deepEqual(docs.map((d) => d.seq), Array.from({ length: 30 }, (_, i) => i + 1));
  } finally {
    await mongo.close();
  }
  const info = await (await jetstreamManager(nc)).consumers.info(streamName, consumerName);
  assert.equal(info.num_pending + info.num_ack_pending, 0, 'all acked in the end');
  assert.ok(logs.lines().some((l) => l.msg === "batch write failed; messages nak'ed for redelivery"));
  await eventually(() => service.ready(), 'ready again');
});
