import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { startNats, type RunningNats } from '@chorus/local/servers/nats';
import { consumerName, republishHeaders, settingsBucket, streamName, subjects } from '@chorus/shared/bus/names';
import { ensureMessageStream, ensureSettingsBucket } from '@chorus/shared/bus/jetstream-setup';
import { chat, enqueue, eventually } from './support/messages.js';

let dir: string;
let nats: RunningNats;
let nc: NatsConnection;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chorus-js-setup-'));
  nats = await startNats({ dataDir: dir });
  nc = await connect({ servers: nats.url });
});
after(async () => {
  await nc?.close();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const second = 1_000_000_000;

test('creates the limits-retention stream with RePublish and direct gets, and the durable consumer, idempotently and concurrently', async () => {
  await Promise.all([ensureMessageStream(nc), ensureMessageStream(nc), ensureMessageStream(nc)]);
  await ensureMessageStream(nc);
  const jsm = await jetstreamManager(nc);
  const { config } = await jsm.streams.info(streamName);
  assert.deepEqual(config.subjects, ['chorus.in.>']);
  assert.equal(config.retention, RetentionPolicy.Limits);
  assert.equal(config.storage, StorageType.File);
  assert.equal(config.duplicate_window, 120 * second);
  assert.equal(config.max_age, 0, 'the stream drops nothing by age: the trimmer removes written messages');
  assert.equal(config.discard, DiscardPolicy.New, 'a full stream refuses publishes rather than drop unwritten messages');
  assert.equal(config.max_bytes, 1024 * 1024 * 1024);
  assert.equal(config.allow_direct, true);
  assert.equal(config.republish?.src, 'chorus.in.>');
  assert.equal(config.republish?.dest, 'chorus.live.>');
  const consumer = await jsm.consumers.info(streamName, consumerName);
  assert.equal(consumer.config.durable_name, consumerName);
  assert.equal(consumer.config.ack_policy, AckPolicy.Explicit);
  assert.equal(consumer.config.deliver_policy, DeliverPolicy.All);
  assert.equal(consumer.config.ack_wait, 30 * second);
  assert.equal(consumer.config.max_ack_pending, 20_000);
});

test('every stored message is republished on chorus.live.<room> with its sequence and the room\'s previous one, and stays in the stream after the ack', async () => {
  const live: Msg[] = [];
  const sub = nc.subscribe(subjects.liveAll, { callback: (_, msg) => void live.push(msg) });
  await nc.flush();
  try {
    const js = jetstream(nc);
    const a1 = await enqueue(js, chat('live-a', 1));
    const b1 = await enqueue(js, chat('live-b', 1));
    const a2 = await enqueue(js, chat('live-a', 2));
    // The same Nats-Msg-Id again inside the duplicate window: not stored, not republished.
    assert.equal(await enqueue(js, chat('live-a', 2)), a2, 'a duplicate publish is answered with the original position');
    await eventually(() => live.length >= 3, 'three live copies');
    const seen = live.map((m) => ({
      subject: m.subject,
      seq: Number(m.headers?.get(republishHeaders.sequence)),
      last: Number(m.headers?.get(republishHeaders.lastSequence)),
      id: m.json<{ id: string }>().id,
    }));
    assert.deepEqual(seen, [
      { subject: 'chorus.live.live-a', seq: a1, last: 0, id: 'live-a-1' },
      { subject: 'chorus.live.live-b', seq: b1, last: 0, id: 'live-b-1' },
      { subject: 'chorus.live.live-a', seq: a2, last: a1, id: 'live-a-2' },
    ]);

    // The writer acks; limits retention keeps the messages (gateways replay from them).
    const consumer = await js.consumers.get(streamName, consumerName);
    const fetched = await consumer.fetch({ max_messages: 3, expires: 2_000 });
    let acked = 0;
    for await (const m of fetched) {
      await m.ackAck();
      if (++acked === 3) break;
    }
    assert.equal(acked, 3);
    const jsm = await jetstreamManager(nc);
    const info = await jsm.consumers.info(streamName, consumerName);
    assert.equal(info.num_pending + info.num_ack_pending, 0);
    assert.equal(info.ack_floor.stream_seq, a2);
    assert.equal((await jsm.streams.info(streamName)).state.messages, 3, 'acked messages stay in the stream');
    assert.equal((await jsm.direct.getMessage(streamName, { last_by_subj: subjects.inbound('live-a') }))?.seq, a2);
  } finally {
    sub.unsubscribe();
  }
});

test('ack_wait and retention limits are configurable, and an existing stream is brought back to the contract without losing its other settings', async () => {
  const jsm = await jetstreamManager(nc);
  await ensureMessageStream(nc, { ackWaitMs: 1_500, maxBytes: 64 * 1024 * 1024 });
  assert.equal((await jsm.consumers.info(streamName, consumerName)).config.ack_wait, 1.5 * second, 'ack_wait changed in place');
  let { config } = await jsm.streams.info(streamName);
  assert.equal(config.max_bytes, 64 * 1024 * 1024);

  await jsm.streams.update(streamName, { ...config, duplicate_window: 5 * second, max_age: 3600 * second, discard: DiscardPolicy.Old, max_msgs: 1_000_000, republish: undefined });
  await jsm.consumers.update(streamName, consumerName, { max_ack_pending: 10 });
  await ensureMessageStream(nc);
  config = (await jsm.streams.info(streamName)).config;
  assert.equal(config.duplicate_window, 120 * second);
  assert.equal(config.republish?.dest, 'chorus.live.>', 'RePublish restored');
  assert.equal(config.max_age, 0, 'no age limit again');
  assert.equal(config.discard, DiscardPolicy.New, 'discard new again');
  assert.equal(config.max_msgs, 1_000_000, 'a limit someone set is kept');
  const consumer = (await jsm.consumers.info(streamName, consumerName)).config;
  assert.equal(consumer.max_ack_pending, 20_000);
  assert.equal(consumer.ack_wait, 30 * second);
  assert.equal((await jsm.streams.info(streamName)).state.messages, 3, 'no message lost by the updates');
});

test('a work-queue stream (made by an older Chorus) is refused with a clear error', async () => {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(streamName);
  await jsm.streams.add({ name: streamName, subjects: ['chorus.in.>'], retention: RetentionPolicy.Workqueue });
  await assert.rejects(ensureMessageStream(nc), /retention workqueue, expected limits.*nats stream rm CHORUS_MESSAGES/s);
  await jsm.streams.delete(streamName);
  await ensureMessageStream(nc);
  assert.equal((await jsm.streams.info(streamName)).config.retention, RetentionPolicy.Limits);
});

test('the settings bucket is created once and opened as it is afterwards', async () => {
  const kv = await ensureSettingsBucket(nc);
  await kv.put('batching', '{"batchSize":5,"flushIntervalMs":5}');
  const again = await ensureSettingsBucket(nc);
  assert.equal((await again.get('batching'))?.string(), '{"batchSize":5,"flushIntervalMs":5}');
  // Created by someone else with another history: still usable.
  await new Kvm(nc).open(settingsBucket).then((b) => b.destroy());
  await new Kvm(nc).create(settingsBucket, { history: 1 });
  const other = await ensureSettingsBucket(nc);
  assert.equal((await other.status()).history, 1);
});
