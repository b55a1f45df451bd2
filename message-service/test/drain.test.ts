import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type ConsumerInfo, type JetStreamClient } from '@nats-io/jetstream';
import { MongoClient } from 'mongodb';
import { freePort } from '@chorus/local/servers/free-port';
import { batchingKey, consumerName, streamName } from '@chorus/shared/bus/names';
import { ensureSettingsBucket } from '@chorus/shared/bus/jetstream-setup';
import { startMessageService } from '../src/service.js';
import type { MessageDoc } from '../src/storage/collections.js';
import { startBackends, type Backends } from './support/backends.js';
import { capturedLogger } from './support/captured-logger.js';
import { chat, enqueue, eventually } from './support/messages.js';

// SIGTERM to a real message-service process (its main) while it holds a batch: the batch is
// written and acked before the process exits, and nothing new is pulled once it drains.

const mainJs = fileURLToPath(new URL('../src/main.js', import.meta.url));
/** Long: a message the draining replica took and left unacked would stay ack-pending all test long. */
const ackWaitMs = 120_000;
const drainTimeoutMs = 15_000;
let backends: Backends;
let nc: NatsConnection;
let js: JetStreamClient;
let mongo: MongoClient;

before(async () => {
  backends = await startBackends();
  nc = await connect({ servers: backends.nats.url });
  js = jetstream(nc);
  mongo = await new MongoClient(backends.mongo.uri).connect();
});
after(async () => {
  await mongo?.close();
  await nc?.close();
  await backends?.stop();
});

function startReplica(db: string) {
  return (async () => {
    const metricsPort = await freePort();
    const child = spawn(process.execPath, [mainJs], {
      env: {
        ...process.env,
        LOG_LEVEL: 'info',
        NATS_URL: backends.nats.url,
        MONGODB_URI: backends.mongo.uri,
        MONGODB_DB: db,
        METRICS_PORT: String(metricsPort),
        ACK_WAIT_MS: String(ackWaitMs),
        DRAIN_TIMEOUT_MS: String(drainTimeoutMs),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await eventually(async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined))?.status === 200, 'the replica ready', 20_000);
    return { child, exited, output: () => output };
  })();
}

const consumer = async (): Promise<ConsumerInfo> => (await jetstreamManager(nc)).consumers.info(streamName, consumerName);
const stored = (db: string, room: string) => mongo.db(db).collection<MessageDoc>('messages').find({ room }).sort({ pos: 1 }).toArray();

/** Every position stored once, each document the message published there. */
function assertStoredOnce(docs: MessageDoc[], positions: number[], room: string): void {
  assert.deepEqual(docs.map((d) => d.pos), [...positions].sort((a, b) => a - b), 'every position stored once');
  assert.equal(new Set(docs.map((d) => d._id)).size, positions.length, 'no id twice');
  assert.ok(docs.every((d) => d.room === room));
}

test('SIGTERM with a batch collected but not yet due: it is written and acked before the process exits 0', async () => {
  // A 10 s flush interval and a batch size above what is sent: the batch waits in the replica.
  const kv = await ensureSettingsBucket(nc);
  await kv.put(batchingKey, JSON.stringify({ batchSize: 10_000, flushIntervalMs: 10_000, source: 'drain test' }));
  const replica = await startReplica('drain_a');
  try {
    const positions = await Promise.all(Array.from({ length: 200 }, (_, i) => enqueue(js, chat('held', i + 1))));
    await eventually(async () => {
      const info = await consumer();
      return info.num_ack_pending === 200 && info.num_pending === 0;
    }, 'the replica holds all 200, unacked');
    assert.equal((await stored('drain_a', 'held')).length, 0, 'nothing written yet: the batch is in flight');

    replica.child.kill('SIGTERM');
    // Exit 0 is a drain that finished inside DRAIN_TIMEOUT_MS (its timer exits 1).
    assert.equal(await replica.exited, 0, replica.output());
    assert.match(replica.output(), /"msg":"message-service stopped"/);
    assert.doesNotMatch(replica.output(), /shutdown timed out/);

    assertStoredOnce(await stored('drain_a', 'held'), positions, 'held');
    const info = await consumer();
    assert.equal(info.num_ack_pending, 0, 'the whole batch acked: nothing comes back after ack_wait');
    assert.equal(info.num_pending, 0);
    assert.equal(info.num_redelivered, 0);
    assert.equal(info.ack_floor.stream_seq, Math.max(...positions), 'acked up to the last position');
  } finally {
    replica.child.kill('SIGKILL');
    await kv.delete(batchingKey);
  }
});

test('SIGTERM during a slow write: the write finishes and is acked; a message published meanwhile is left for another replica', async () => {
  const replica = await startReplica('drain_b');
  const ferret = backends.mongo.process!;
  let paused = false;
  let latePos = 0;
  try {
    // The database answers nothing while paused: the batch's insertMany waits.
    ferret.signal('SIGSTOP');
    paused = true;
    const positions = await Promise.all(Array.from({ length: 30 }, (_, i) => enqueue(js, chat('slow', i + 1))));
    await eventually(async () => {
      const info = await consumer();
      return info.num_ack_pending === 30 && info.num_pending === 0;
    }, 'the replica took all 30');

    replica.child.kill('SIGTERM');
    await eventually(() => /"msg":"shutting down"/.test(replica.output()), 'the replica draining');
    // Its pull request is withdrawn: JetStream has nowhere left to send a new message.
    await eventually(async () => (await consumer()).num_waiting === 0, 'no pull request waiting');
    latePos = await enqueue(js, chat('slow', 31));
    await eventually(async () => (await consumer()).num_pending === 1, 'the late message queued');

    ferret.signal('SIGCONT');
    paused = false;
    assert.equal(await replica.exited, 0, replica.output());
    assert.doesNotMatch(replica.output(), /shutdown timed out/);

    assertStoredOnce(await stored('drain_b', 'slow'), positions, 'slow');
    const info = await consumer();
    assert.equal(info.num_ack_pending, 0, 'the batch acked, and the late message never taken');
    assert.equal(info.num_pending, 1, 'the late message waits for the next replica');
    assert.ok(info.delivered.stream_seq < latePos, 'it was never delivered');
    assert.equal(info.num_redelivered, 0);
  } finally {
    if (paused) ferret.signal('SIGCONT');
    replica.child.kill('SIGKILL');
  }

  // The next replica takes it: stored once, nothing pending.
  const next = await startMessageService({ natsUrl: backends.nats.url, mongoUri: backends.mongo.uri, mongoDb: 'drain_b', logger: capturedLogger().log, statsIntervalMs: 0, stream: { ackWaitMs } });
  try {
    await eventually(async () => {
      const info = await consumer();
      return info.num_pending === 0 && info.num_ack_pending === 0;
    }, 'the next replica stored it');
    const docs = await stored('drain_b', 'slow');
    assert.equal(docs.at(-1)?.pos, latePos);
    assert.equal(docs.filter((d) => d.pos === latePos).length, 1);
    assert.equal(docs.length, 31);
  } finally {
    await next.close();
  }
});
