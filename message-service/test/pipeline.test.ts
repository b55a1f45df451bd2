import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { batchingKey, consumerName, settingsBucket, streamName, subjects } from '@chorus/shared/bus/names';
import { fanoutBatch, type FanoutBatch } from '@chorus/shared/bus/payloads';
import { startMessageService, type MessageService } from '../src/service.js';
import type { MessageDoc } from '../src/collections.js';
import { startBackends, type Backends } from './support/backends.js';
import { capturedLogger } from './support/captured-logger.js';
import { enqueue, eventually, queued } from './support/messages.js';

let backends: Backends;
let service: MessageService;
let nc: NatsConnection;
let js: JetStreamClient;
let mongo: MongoClient;
let logs: ReturnType<typeof capturedLogger>;
let batchSizes: number[] = [];
const fanouts: FanoutBatch[] = [];

before(async () => {
  backends = await startBackends();
  logs = capturedLogger();
  service = await startMessageService({
    natsUrl: backends.nats.url,
    mongoUri: backends.mongo.uri,
    mongoDb: 'pipeline',
    logger: logs.log,
    onBatch: ({ size }) => batchSizes.push(size),
  });
  nc = await connect({ servers: backends.nats.url });
  js = jetstream(nc);
  nc.subscribe(subjects.fanout('*'), { callback: (_, msg) => void fanouts.push(fanoutBatch.parse(msg.json())) });
  await nc.flush();
  mongo = await new MongoClient(backends.mongo.uri).connect();
});

after(async () => {
  await service?.close();
  await nc?.close();
  await mongo?.close();
  await backends?.stop();
});

beforeEach(() => {
  batchSizes = [];
});

const stored = (room: string) =>
  mongo.db('pipeline').collection<MessageDoc>('messages').find({ room }).sort({ seq: 1 }).toArray();

async function queueDepth(): Promise<number> {
  const info = await (await jetstreamManager(nc)).consumers.info(streamName, consumerName);
  return info.num_pending + info.num_ack_pending;
}

test('queued messages are stored once each, fanned out per room in seq order, and acked', async () => {
  const rooms = ['alpha', 'beta'];
  const sent = [];
  for (let seq = 1; seq <= 30; seq++) for (const room of rooms) sent.push(queued(room, seq));
  await Promise.all(sent.map((m) => enqueue(js, m)));

  await eventually(async () => (await stored('alpha')).length === 30 && (await stored('beta')).length === 30, 'all stored');
  for (const room of rooms) {
    const docs = await stored(room);
    assert.deepEqual(docs.map((d) => d.seq), Array.from({ length: 30 }, (_, i) => i + 1));
    assert.equal(docs[0]!._id, `${room}-1`);
    assert.equal(docs[0]!.text, 'message 1');
    assert.equal(docs[0]!.clientMsgId, `c-${room}-1`);
    assert.ok(docs[0]!.storedAt instanceof Date);
  }
  await eventually(() => fanouts.filter((f) => f.room === 'beta').flatMap((f) => f.messages).length === 30, 'fan-out');
  for (const room of rooms) {
    const payloads = fanouts.filter((f) => f.room === room);
    for (const p of payloads) assert.ok(p.messages.every((m) => m.room === room), 'a room payload holds only that room');
    const seqs = payloads.flatMap((f) => f.messages.map((m) => m.seq));
    assert.deepEqual(seqs, Array.from({ length: 30 }, (_, i) => i + 1), `${room} fanned out in seq order`);
  }
  await eventually(async () => (await queueDepth()) === 0, 'everything acked');
  assert.ok(batchSizes.length < 60, `messages were batched (${batchSizes.length} batches for 60 messages)`);
});

test('a message enqueued twice, or already stored, is stored once, acked and fanned out again', async () => {
  const message = queued('gamma', 1);
  await enqueue(js, message);
  await eventually(async () => (await stored('gamma')).length === 1, 'first copy stored');
  // A second copy past JetStream's duplicate window (another Nats-Msg-Id), like a redelivery.
  await enqueue(js, message, `${message.id}-again`);
  await eventually(() => fanouts.filter((f) => f.room === 'gamma').length === 2, 'fanned out twice');
  await eventually(async () => (await queueDepth()) === 0, 'both copies acked');
  assert.equal((await stored('gamma')).length, 1);
  assert.ok(service.stats().duplicates >= 1);

  // A redelivery that comes back with another seq (the gateway retried after JetStream's
  // duplicate window): the stored version, with its seq, is what goes out.
  await enqueue(js, { ...message, seq: 7 }, `${message.id}-third`);
  await eventually(() => fanouts.filter((f) => f.room === 'gamma').length === 3, 'fanned out a third time');
  assert.equal(fanouts.filter((f) => f.room === 'gamma')[2]!.messages[0]!.seq, 1);
  assert.deepEqual((await stored('gamma')).map((d) => d.seq), [1]);
});

test('a message whose seq belongs to another message is terminated, the rest of the batch is stored', async () => {
  await enqueue(js, queued('delta', 1));
  await eventually(async () => (await stored('delta')).length === 1, 'stored');
  const impostor = { ...queued('delta', 1), id: 'delta-impostor', clientMsgId: 'other' };
  await Promise.all([enqueue(js, impostor), enqueue(js, queued('delta', 2))]);
  await eventually(async () => (await stored('delta')).length === 2, 'second stored');
  await eventually(async () => (await queueDepth()) === 0, 'impostor not redelivered');
  assert.deepEqual((await stored('delta')).map((d) => d._id), ['delta-1', 'delta-2']);
  assert.equal(service.stats().conflicts, 1);
});

test('an invalid payload is terminated and does not block the queue', async () => {
  const invalidBefore = service.stats().invalid;
  await js.publish(subjects.inbound('epsilon'), 'not json at all');
  await js.publish(subjects.inbound('epsilon'), JSON.stringify({ ...queued('epsilon', 1), seq: -4 }));
  await js.publish(subjects.inbound('epsilon'), JSON.stringify(queued('other-room', 1)));
  await enqueue(js, queued('epsilon', 2));
  await eventually(async () => (await stored('epsilon')).length === 1, 'valid message stored');
  await eventually(async () => (await queueDepth()) === 0, 'invalid ones are gone from the queue');
  assert.equal(service.stats().invalid - invalidBefore, 3);
  assert.equal((await stored('other-room')).length, 0, 'a payload whose room differs from its subject is rejected');
  assert.ok(logs.lines().some((l) => l.msg === 'invalid queued message terminated' && l.subject === 'chorus.in.epsilon'));
});

test('a batchSize written to the KV bucket changes batch sizes without a restart', async () => {
  const kv = await new Kvm(nc).open(settingsBucket);
  try {
    // A long interval so batches are cut by size, not time.
    await kv.put(batchingKey, JSON.stringify({ batchSize: 7, flushIntervalMs: 2_000, source: 'test' }));
    await eventually(() => service.settings().batchSize === 7, 'settings applied');
    batchSizes = [];
    await Promise.all(Array.from({ length: 28 }, (_, i) => enqueue(js, queued('zeta', i + 1))));
    await eventually(async () => (await stored('zeta')).length === 28, 'stored');
    assert.deepEqual(batchSizes, [7, 7, 7, 7]);

    await kv.put(batchingKey, 'this is not JSON');
    await kv.put(batchingKey, JSON.stringify({ batchSize: 20, flushIntervalMs: 2_000 }));
    await eventually(() => service.settings().batchSize === 20, 'second change applied');
    assert.ok(logs.lines().some((l) => l.msg === 'invalid batching settings ignored'));
    batchSizes = [];
    await Promise.all(Array.from({ length: 40 }, (_, i) => enqueue(js, queued('zeta', 100 + i))));
    await eventually(async () => (await stored('zeta')).length === 68, 'stored');
    assert.deepEqual(batchSizes, [20, 20]);

    // Deleting the key brings back the defaults.
    await kv.delete(batchingKey);
    await eventually(() => service.settings().batchSize === 100 && service.settings().flushIntervalMs === 50, 'defaults');
  } finally {
    await kv.delete(batchingKey).catch(() => {});
  }
});

test('a deleted consumer is recreated and consuming resumes', async () => {
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.delete(streamName, consumerName);
  await Promise.all(Array.from({ length: 5 }, (_, i) => enqueue(js, queued('theta', i + 1))));
  await eventually(async () => (await stored('theta')).length === 5, 'stored after the consumer came back', 15_000);
  assert.ok(logs.lines().some((l) => l.msg === 'message consumer gone; recreating it'));
});

test('two replicas share the queue; closing one mid-stream loses nothing and leaves nothing unacked', async () => {
  const second = await startMessageService({
    natsUrl: backends.nats.url,
    mongoUri: backends.mongo.uri,
    mongoDb: 'pipeline',
    logger: capturedLogger().log,
    statsIntervalMs: 0,
    name: 'message-service second',
  });
  let secondClosed = false;
  try {
    const total = 400;
    const publishing = (async () => {
      for (let seq = 1; seq <= total; seq += 20) {
        await Promise.all(Array.from({ length: 20 }, (_, i) => enqueue(js, queued('eta', seq + i))));
      }
    })();
    await eventually(() => second.stats().processed > 0, 'the second replica takes a share');
    await second.close();
    secondClosed = true;
    await publishing;
    // Messages the server had already sent to the closed replica's pull when it unsubscribed come
    // back after ack_wait (30 s): a graceful close can delay them, never lose them.
    await eventually(async () => (await stored('eta')).length === total, 'everything stored', 45_000);
    await eventually(async () => (await queueDepth()) === 0, 'nothing left unacked', 5_000);
    assert.ok(second.stats().processed < total, 'the work was shared');
  } finally {
    if (!secondClosed) await second.close();
  }
});

test('a stats line is logged once a second while busy', async () => {
  await eventually(() => logs.lines().some((l) => l.msg === 'stats'), 'a stats line', 3_000);
  const line = logs.lines().find((l) => l.msg === 'stats')!;
  for (const field of ['processed', 'queueDepth', 'ratePerSec', 'meanBatchSize', 'p99FlushMs', 'eventLoopDelayP99Ms', 'heapUsedMb']) {
    assert.ok(field in line, `stats line has ${field}`);
  }
  assert.ok((line.processed as number) > 0);
});
