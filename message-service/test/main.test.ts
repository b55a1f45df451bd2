import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { MongoClient } from 'mongodb';
import { freePort } from '@chorus/local/servers/free-port';
import { consumerName, streamName, subjects } from '@chorus/shared/bus/names';
import type { RoomsResults, RpcReply } from '@chorus/shared/bus/payloads';
import type { MessageDoc } from '../src/storage/collections.js';
import { startBackends, type Backends } from './support/backends.js';
import { chat, enqueue, eventually } from './support/messages.js';

const mainJs = fileURLToPath(new URL('../src/main.js', import.meta.url));
let backends: Backends;
let nc: NatsConnection;

before(async () => {
  backends = await startBackends();
  nc = await connect({ servers: backends.nats.url });
});
after(async () => {
  await nc?.close();
  await backends?.stop();
});

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, [mainJs], { env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

test('main: reads env, serves, and on SIGTERM finishes its work and exits 0', async () => {
  const metricsPort = await freePort();
  const proc = run({ NATS_URL: backends.nats.url, MONGODB_URI: backends.mongo.uri, MONGODB_DB: 'main', METRICS_PORT: String(metricsPort) });
  try {
    await eventually(async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined))?.status === 200, 'ready', 15_000);
    const created = (await nc.request(subjects.roomsRpc, JSON.stringify({ op: 'create', room: 'main-room', user: 'ann' }), { timeout: 5_000 })).json<RpcReply<RoomsResults['create']>>();
    assert.deepEqual(created, { ok: true, result: { room: 'main-room', head: 0, created: true } });
    const js = jetstream(nc);
    await Promise.all(Array.from({ length: 50 }, (_, i) => enqueue(js, chat('main-room', i + 1))));
    proc.child.kill('SIGTERM');
    assert.equal(await proc.exited, 0, proc.output());
    assert.match(proc.output(), /"msg":"message-service stopped"/);
  } finally {
    proc.child.kill('SIGKILL');
  }
  // Whatever it had taken was written before it exited; the rest waits in JetStream for the next replica.
  const mongo = await new MongoClient(backends.mongo.uri).connect();
  try {
    const count = await mongo.db('main').collection<MessageDoc>('messages').countDocuments({ room: 'main-room' });
    assert.ok(count <= 50);
    const info = await (await jetstreamManager(nc)).consumers.info(streamName, consumerName);
    assert.equal(count + info.num_pending, 50, 'every message is either stored or still queued');
    assert.equal(info.num_ack_pending, 0, 'nothing taken and left unacked');
    const stream = await (await jetstreamManager(nc)).streams.info(streamName);
    assert.equal(stream.state.messages, 50, 'the stream keeps every message, written or not');
  } finally {
    await mongo.close();
  }
});

test('main: an invalid environment stops it at start with a readable reason', async () => {
  const proc = run({ NATS_URL: backends.nats.url, METRICS_PORT: 'not-a-port' });
  assert.equal(await proc.exited, 1);
  assert.match(proc.output(), /METRICS_PORT/);
});
