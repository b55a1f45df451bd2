import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, RetentionPolicy, StorageType, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { startNats, type RunningNats } from '@chorus/local/servers/nats';
import { consumerName, settingsBucket, streamName } from '@chorus/shared/bus/names';
import { ensureMessageStream, ensureSettingsBucket } from '@chorus/shared/bus/jetstream-setup';

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

test('creates the work-queue stream and the durable consumer, idempotently, also when called concurrently', async () => {
  await Promise.all([ensureMessageStream(nc), ensureMessageStream(nc), ensureMessageStream(nc)]);
  await ensureMessageStream(nc);
  const jsm = await jetstreamManager(nc);
  const { config } = await jsm.streams.info(streamName);
  assert.deepEqual(config.subjects, ['chorus.in.>']);
  assert.equal(config.retention, RetentionPolicy.Workqueue);
  assert.equal(config.storage, StorageType.File);
  assert.equal(config.duplicate_window, 120 * second);
  const consumer = await jsm.consumers.info(streamName, consumerName);
  assert.equal(consumer.config.durable_name, consumerName);
  assert.equal(consumer.config.ack_policy, AckPolicy.Explicit);
  assert.equal(consumer.config.ack_wait, 30 * second);
  assert.equal(consumer.config.max_ack_pending, 20_000);
});

test('an existing stream is brought back to the contract without losing its other settings', async () => {
  const jsm = await jetstreamManager(nc);
  const { config } = await jsm.streams.info(streamName);
  await jsm.streams.update(streamName, { ...config, duplicate_window: 5 * second, max_msgs: 1_000_000 });
  await jsm.consumers.update(streamName, consumerName, { max_ack_pending: 10 });
  await ensureMessageStream(nc);
  const after = (await jsm.streams.info(streamName)).config;
  assert.equal(after.duplicate_window, 120 * second);
  assert.equal(after.max_msgs, 1_000_000, 'a limit someone set is kept');
  assert.equal((await jsm.consumers.info(streamName, consumerName)).config.max_ack_pending, 20_000);
});

test('a stream with the wrong retention is refused with a clear error', async () => {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(streamName);
  await jsm.streams.add({ name: streamName, subjects: ['chorus.in.>'], retention: RetentionPolicy.Limits });
  await assert.rejects(ensureMessageStream(nc), /retention limits, expected workqueue/);
  await jsm.streams.delete(streamName);
  await ensureMessageStream(nc);
  assert.equal((await jsm.streams.info(streamName)).config.retention, RetentionPolicy.Workqueue);
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
