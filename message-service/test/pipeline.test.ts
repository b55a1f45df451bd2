import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { batchingKey, consumerName, settingsBucket, streamName, subjects } from '@chorus/shared/bus/names';
import type { HistoryResult, RpcReply } from '@chorus/shared/bus/payloads';
import { startMessageService, type MessageService } from '../src/service.js';
import type { MessageDoc } from '../src/storage/collections.js';
import { startBackends, type Backends } from './support/backends.js';
import { capturedLogger } from './support/captured-logger.js';
import { chat, enqueue, eventually, queueDepth } from './support/messages.js';

/** Short, so messages a closed replica had pulled come back in seconds. */
const ackWaitMs = 5_000;
let backends: Backends;
let service: MessageService;
let nc: NatsConnection;
let js: JetStreamClient;
let mongo: MongoClient;
let logs: ReturnType<typeof capturedLogger>;
let batchSizes: number[] = [];

before(async () => {
  backends = await startBackends();
  logs = capturedLogger();
  service = await startMessageService({
    natsUrl: backends.nats.url,
    mongoUri: backends.mongo.uri,
    mongoDb: 'pipeline',
    logger: logs.log,
    stream: { ackWaitMs },
    onBatch: ({ size }) => batchSizes.push(size),
  });
  nc = await connect({ servers: backends.nats.url });
  js = jetstream(nc);
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

const messages = () => mongo.db('pipeline').collection<MessageDoc>('messages');
const stored = (room: string) => messages().find({ room }).sort({ pos: 1 }).toArray();
const drained = () => eventually(async () => (await queueDepth(nc)) === 0, 'everything acked');

test('messages are stored with pos = their stream sequence, acked, and stay in the stream', async () => {
  const rooms = ['alpha', 'beta'];
  const sent = [];
  for (let n = 1; n <= 30; n++) for (const room of rooms) sent.push(chat(room, n));
  const positions = await Promise.all(sent.map((m) => enqueue(js, m)));
  const posOf = new Map(sent.map((m, i) => [m.id, positions[i]!]));

  await eventually(async () => (await stored('alpha')).length === 30 && (await stored('beta')).length === 30, 'all stored');
  for (const room of rooms) {
    const docs = await stored(room);
    for (const d of docs) assert.equal(d.pos, posOf.get(d._id), `${d._id} stored at its stream sequence`);
    assert.deepEqual(
      docs.map((d) => d.pos),
      sent.filter((m) => m.room === room).map((m) => posOf.get(m.id)!).sort((a, b) => a - b),
    );
    const first = docs.find((d) => d._id === `${room}-1`)!;
    assert.equal(first.text, 'message 1');
    assert.equal(first.sender, 'ann');
    assert.equal(first.clientMsgId, `c-${room}-1`);
    assert.equal(typeof first.ts, 'number');
    assert.ok(first.storedAt instanceof Date);
    assert.equal('seq' in first, false, 'no per-room counter any more');
  }
  await drained();
  assert.ok(batchSizes.length < 60, `messages were batched (${batchSizes.length} batches for 60 messages)`);
  assert.equal(batchSizes.reduce((a, b) => a + b, 0), 60);

  const jsm = await jetstreamManager(nc);
  assert.equal((await jsm.streams.info(streamName)).state.messages, 60, 'acked messages stay in the stream');
  const consumer = await jsm.consumers.info(streamName, consumerName);
  assert.equal(consumer.ack_floor.stream_seq, Math.max(...positions), 'the ack floor is the newest position');
  const again = await jsm.direct.getMessage(streamName, { seq: posOf.get('beta-7')! });
  assert.equal(again?.json<{ id: string }>().id, 'beta-7');
});

test('a late duplicate (the same id published again after the duplicate window) is acked, dropped and counted', async () => {
  const message = chat('gamma', 1);
  const firstPos = await enqueue(js, message);
  await eventually(async () => (await stored('gamma')).length === 1, 'first copy stored');
  const duplicatesBefore = service.stats().duplicates;
  // Another Nats-Msg-Id, as if JetStream's duplicate window had passed: the stream stores it again.
  const latePos = await enqueue(js, message, `${message.id}-late`);
  assert.ok(latePos > firstPos);
  await eventually(() => service.stats().duplicates >= duplicatesBefore + 1, 'the late copy counted');
  await drained();
  assert.deepEqual(
    (await stored('gamma')).map((d) => [d._id, d.id, d.pos]),
    [
      ['gamma-1', undefined, firstPos],
      [`gamma-1@${latePos}`, 'gamma-1', latePos],
    ],
    'the later copy is stored as the stream holds it, and the id still finds the first',
  );
  assert.ok(logs.lines().some((l) => l.id === 'gamma-1' && l.pos === latePos && /another position/.test(String(l.msg))));
  assert.equal(service.stats().conflicts, 0, 'a late duplicate is not a conflict');
});

test(
  'history shows a late copy the same way whether a page is read from the stream or from MongoDB',
  async () => {
    const rpc = async (body: unknown) => (await nc.request(subjects.historyRpc, JSON.stringify(body), { timeout: 5_000 })).json<RpcReply<HistoryResult>>();
    const forward = await rpc({ room: 'gamma', after: 0, limit: 10 }); // the stream holds everything: read from it
    const backward = await rpc({ room: 'gamma', limit: 10 }); // up to the writer's floor: read from MongoDB
    assert.ok(forward.ok && backward.ok);
    assert.deepEqual(forward.result.messages.map((m) => m.id), ['gamma-1', 'gamma-1'], 'forward');
    assert.deepEqual(backward.result.messages.map((m) => [m.id, m.pos]), forward.result.messages.map((m) => [m.id, m.pos]), 'backward');
  },
);

test('a message whose position is taken by another message is terminated; the rest of the batch is stored', async () => {
  const jsm = await jetstreamManager(nc);
  const next = (await jsm.streams.info(streamName)).state.last_seq + 1;
  // As if the stream had been recreated over old data: the next position already holds another message.
  await messages().insertOne({ _id: 'delta-impostor', room: 'delta', pos: next, sender: 'eve', text: 'old', ts: 1, clientMsgId: 'old', storedAt: new Date() });
  const [p1, p2] = await Promise.all([enqueue(js, chat('delta', 1)), enqueue(js, chat('delta', 2))]);
  assert.equal(Math.min(p1!, p2!), next);
  await eventually(() => service.stats().conflicts >= 1, 'the conflict terminated');
  await drained();
  const docs = await stored('delta');
  assert.deepEqual(
    docs.map((d) => d._id).sort(),
    ['delta-impostor', p1 === next ? 'delta-2' : 'delta-1'].sort(),
    'the impostor keeps its position; the other message is stored',
  );
  assert.ok(logs.lines().some((l) => l.level === 50 && l.pos === next && /position already taken/.test(String(l.msg))));
});

test('invalid payloads are terminated and do not block the queue', async () => {
  const invalidBefore = service.stats().invalid;
  await js.publish(subjects.inbound('epsilon'), 'not json at all');
  // A v1 payload (with a per-room seq) is no longer valid: the stored schema is strict.
  await js.publish(subjects.inbound('epsilon'), JSON.stringify({ ...chat('epsilon', 1), seq: 4 }));
  await js.publish(subjects.inbound('epsilon'), JSON.stringify(chat('other-room', 1)));
  await enqueue(js, chat('epsilon', 2));
  await eventually(async () => (await stored('epsilon')).length === 1, 'valid message stored');
  await drained();
  assert.equal(service.stats().invalid - invalidBefore, 3);
  assert.equal((await stored('other-room')).length, 0, 'a payload whose room differs from its subject is rejected');
  const terminated = logs.lines().filter((l) => l.msg === 'invalid queued message terminated' && l.subject === 'chorus.in.epsilon');
  assert.equal(terminated.length, 3);
  assert.ok(terminated.some((l) => /not JSON/.test(String(l.reason))));
  assert.ok(terminated.some((l) => /does not match subject/.test(String(l.reason))));
});

test('a batchSize written to the KV bucket changes batch sizes without a restart', async () => {
  const kv = await new Kvm(nc).open(settingsBucket);
  try {
    // A long interval so batches are cut by size, not time.
    await kv.put(batchingKey, JSON.stringify({ batchSize: 7, flushIntervalMs: 1_500, source: 'test' }));
    await eventually(() => service.settings().batchSize === 7, 'settings applied');
    batchSizes = [];
    await Promise.all(Array.from({ length: 28 }, (_, i) => enqueue(js, chat('zeta', i + 1))));
    await eventually(async () => (await stored('zeta')).length === 28, 'stored');
    assert.deepEqual(batchSizes, [7, 7, 7, 7]);

    await kv.put(batchingKey, 'this is not JSON');
    await kv.put(batchingKey, JSON.stringify({ batchSize: 20, flushIntervalMs: 1_500 }));
    await eventually(() => service.settings().batchSize === 20, 'second change applied');
    assert.ok(logs.lines().some((l) => l.msg === 'invalid batching settings ignored'));
    batchSizes = [];
    await Promise.all(Array.from({ length: 40 }, (_, i) => enqueue(js, chat('zeta', 100 + i))));
    await eventually(async () => (await stored('zeta')).length === 68, 'stored');
    assert.deepEqual(batchSizes, [20, 20]);

    // Deleting the key brings back the defaults.
    await kv.delete(batchingKey);
    await eventually(() => service.settings().batchSize === 100 && service.settings().flushIntervalMs === 50, 'defaults');
  } finally {
    await kv.delete(batchingKey).catch(() => {});
  }
  await drained();
});

test('a deleted consumer is recreated and consuming resumes; replaying the whole stream stores nothing twice', async () => {
  const jsm = await jetstreamManager(nc);
  const countBefore = await messages().countDocuments();
  await jsm.consumers.delete(streamName, consumerName);
  await Promise.all(Array.from({ length: 5 }, (_, i) => enqueue(js, chat('theta', i + 1))));
  await eventually(async () => (await stored('theta')).length === 5, 'stored after the consumer came back', 15_000);
  await eventually(async () => (await queueDepth(nc)) === 0, 'the replayed stream is acked', 15_000);
  assert.ok(logs.lines().some((l) => l.msg === 'message consumer gone; recreating it'));
  assert.equal(await messages().countDocuments(), countBefore + 5, 'redelivered messages were recognised as stored');
});

test('two replicas share the consumer; closing one mid-stream loses nothing and leaves nothing unacked', async () => {
  const second = await startMessageService({
    natsUrl: backends.nats.url,
    mongoUri: backends.mongo.uri,
    mongoDb: 'pipeline',
    logger: capturedLogger().log,
    statsIntervalMs: 0,
    stream: { ackWaitMs },
    name: 'message-service second',
  });
  let secondClosed = false;
  try {
    const total = 400;
    const positions: number[] = [];
    const publishing = (async () => {
      for (let n = 1; n <= total; n += 20) {
        positions.push(...(await Promise.all(Array.from({ length: 20 }, (_, i) => enqueue(js, chat('eta', n + i))))));
      }
    })();
    await eventually(() => second.stats().processed > 0, 'the second replica takes a share');
    await second.close();
    secondClosed = true;
    await publishing;
    // Messages the server had already sent to the closed replica's pull come back after ack_wait.
    await eventually(async () => (await stored('eta')).length === total, 'everything stored', 20_000);
    await drained();
    assert.deepEqual(
      (await stored('eta')).map((d) => d.pos),
      positions.sort((a, b) => a - b),
    );
    assert.ok(second.stats().processed < total, 'the work was shared');
  } finally {
    if (!secondClosed) await second.close();
  }
});

test('a stats line is logged once a second while busy, with the writer lag as queue depth', async () => {
  // Lines from earlier tests may say queueDepth null (logged while a test had deleted the consumer).
  const seen = logs.lines().length;
  for (let i = 1; i <= 20; i++) await enqueue(js, chat('stats', i));
  await eventually(async () => (await stored('stats')).length === 20, 'the messages stored', 10_000);
  await eventually(() => logs.lines().slice(seen).some((l) => l.msg === 'stats'), 'a stats line', 10_000);
  const line = logs.lines().slice(seen).find((l) => l.msg === 'stats')!;
  for (const field of ['processed', 'queueDepth', 'ratePerSec', 'meanBatchSize', 'p99FlushMs', 'eventLoopDelayP99Ms', 'heapUsedMb']) {
    assert.ok(field in line, `stats line has ${field}`);
  }
  assert.ok((line.processed as number) > 0);
  assert.equal(typeof line.queueDepth, 'number');
});
