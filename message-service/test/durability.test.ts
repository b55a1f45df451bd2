import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { consumerName, streamName } from '@chorus/shared/bus/names';
import { storedMessage } from '@chorus/shared/bus/payloads';
import { ensureMessageStream } from '@chorus/shared/bus/jetstream-setup';
import { startFerretDb, type RunningMongo } from '@chorus/local/servers/ferretdb';
import { startMessageService, type MessageService } from '../src/service.js';
import type { MessageDoc } from '../src/storage/collections.js';
import { startBackends, type Backends } from './support/backends.js';
import { capturedLogger } from './support/captured-logger.js';
import { chat, enqueue, enqueueInOrder, eventually, queueDepth } from './support/messages.js';

/** Short, so a crashed replica's messages come back in about a second instead of 30. */
const ackWaitMs = 1_000;
let backends: Backends;
let restarted: RunningMongo | undefined;
let service: MessageService | undefined;
let nc: NatsConnection;
const logs = capturedLogger();

before(async () => {
  backends = await startBackends();
  nc = await connect({ servers: backends.nats.url });
  await ensureMessageStream(nc, { ackWaitMs });
});

after(async () => {
  await service?.close();
  await nc?.close();
  await restarted?.stop();
  await backends?.stop();
});

async function storedDocs(uri: string, room: string): Promise<MessageDoc[]> {
  const mongo = await new MongoClient(uri, { serverSelectionTimeoutMS: 2_000 }).connect();
  try {
    return await mongo.db('durable').collection<MessageDoc>('messages').find({ room }).sort({ pos: 1 }).toArray();
  } finally {
    await mongo.close();
  }
}

test('a replica that crashed after its insert but before its ack: its messages are redelivered after ack_wait and stored once', async () => {
  const js = jetstream(nc);
  const positions = await enqueueInOrder(js, Array.from({ length: 10 }, (_, i) => chat('crash', i + 1)));

  // The crashed replica: pulled all ten, wrote six of them (insertMany done), acked none, died.
  const crashed = await connect({ servers: backends.nats.url });
  const taken: JsMsg[] = [];
  const fetched = await (await jetstream(crashed).consumers.get(streamName, consumerName)).fetch({ max_messages: 10, expires: 5_000 });
  for await (const m of fetched) if (taken.push(m) === 10) break;
  assert.equal(taken.length, 10);
  const mongo = await new MongoClient(backends.mongo.uri).connect();
  try {
    await mongo
      .db('durable')
      .collection<MessageDoc>('messages')
      .insertMany(
        taken.slice(0, 6).map((m) => {
          const message = storedMessage.parse(m.json());
          return { _id: message.id, room: message.room, pos: m.seq, sender: message.sender, text: message.text, ts: message.ts, clientMsgId: message.clientMsgId, storedAt: new Date() };
        }),
      );
  } finally {
    await mongo.close();
  }
  await crashed.close();

  service = await startMessageService({
    natsUrl: backends.nats.url,
    mongoUri: backends.mongo.uri,
    mongoDb: 'durable',
    logger: logs.log,
    statsIntervalMs: 0,
    stream: { ackWaitMs },
    // Fail fast while the database is down (next test), so nak and redelivery take seconds.
    mongoOptions: { serverSelectionTimeoutMS: 300 },
  });
  await eventually(async () => (await queueDepth(nc)) === 0, 'the redelivered messages are acked');
  const docs = await storedDocs(backends.mongo.uri, 'crash');
  assert.deepEqual(docs.map((d) => d.pos), positions, 'each stored once, at its stream position');
  assert.deepEqual(docs.map((d) => d._id), Array.from({ length: 10 }, (_, i) => `crash-${i + 1}`));
  const stats = service.stats();
  // At least: on a slow machine a batch can outlive the 1 s ack_wait and come back once more.
  assert.ok(stats.processed >= 10);
  assert.ok(stats.duplicates >= 6, `the six already written are recognised as redeliveries (${stats.duplicates})`);
  assert.equal(stats.conflicts, 0);
  const jsm = await jetstreamManager(nc);
  assert.equal((await jsm.consumers.info(streamName, consumerName)).ack_floor.stream_seq, positions.at(-1));
});

test("messages queued while the database is down are nak'ed, redelivered and stored once it is back", async () => {
  assert.ok(service, 'started by the first test');
  const js = jetstream(nc);
  const positions = await Promise.all(Array.from({ length: 10 }, (_, i) => enqueue(js, chat('durable', i + 1))));
  await eventually(async () => (await storedDocs(backends.mongo.uri, 'durable')).length === 10, 'first ten stored');

  await backends.mongo.stop();
  positions.push(...(await Promise.all(Array.from({ length: 20 }, (_, i) => enqueue(js, chat('durable', 11 + i))))));
  await eventually(() => service!.stats().failed > 0, 'a failed write');
  assert.equal(service.ready(), false, 'not ready while the database is unreachable');

  const port = Number(new URL(backends.mongo.uri).port);
  restarted = await startFerretDb({ dataDir: join(backends.dataDir, 'mongo'), port });
  await eventually(async () => (await queueDepth(nc)) === 0, 'all stored and acked after the database came back', 30_000);

  const docs = await storedDocs(restarted.uri, 'durable');
  assert.deepEqual(docs.map((d) => d.pos), [...positions].sort((a, b) => a - b), 'every position stored once');
  assert.equal(new Set(docs.map((d) => d._id)).size, 30);
  assert.equal(service.stats().conflicts, 0);
  assert.ok(logs.lines().some((l) => l.msg === "batch write failed; messages nak'ed for redelivery"));
  await eventually(() => service!.ready(), 'ready again');
  const stream = await (await jetstreamManager(nc)).streams.info(streamName);
  assert.equal(stream.state.messages, 40, 'the stream still holds every message');
});
