import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startNats, type RunningNats } from '@chorus/local/servers/nats';
import { streamName, subjects } from '@chorus/shared/bus/names';
import { ensureMessageStream } from '@chorus/shared/bus/jetstream-setup';
import { StreamPublisher } from '../src/ordering/stream-publisher.js';

let dir: string;
let nats: RunningNats;
let nc: NatsConnection;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chorus-stream-publisher-'));
  nats = await startNats({ dataDir: dir });
  nc = await connect({ servers: nats.url });
  await ensureMessageStream(nc);
});
after(async () => {
  await nc?.close();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a publish resolves with the sequence the stream stored it at; the same message id again is the duplicate at that sequence', async () => {
  const publisher = new StreamPublisher(nc, 5_000);
  const jsm = await jetstreamManager(nc);
  const [first, second] = await Promise.all([
    publisher.publish(subjects.inbound('pub-a'), '{"n":1}', 'pub-a-1', '00-0123456789abcdef0123456789abcdef-0123456789abcdef-01'),
    publisher.publish(subjects.inbound('pub-a'), '{"n":2}', 'pub-a-2'),
  ]);
  assert.equal(first.duplicate, false);
  assert.equal(second.pos, first.pos + 1);
  const again = await publisher.publish(subjects.inbound('pub-a'), '{"n":1}', 'pub-a-1');
  assert.deepEqual(again, { pos: first.pos, duplicate: true });
  const stored = await jsm.streams.getMessage(streamName, { seq: first.pos });
  assert.equal(stored?.string(), '{"n":1}');
  assert.equal(stored?.header.get('Nats-Msg-Id'), 'pub-a-1');
  assert.equal(stored?.header.get('traceparent'), '00-0123456789abcdef0123456789abcdef-0123456789abcdef-01');
  assert.equal((await jsm.streams.info(streamName)).state.last_seq, second.pos, 'the duplicate was not stored again');
});

test('a subject no stream takes is refused at once, and publishes beyond the in-flight bound are refused without being sent', async () => {
  const publisher = new StreamPublisher(nc, 5_000, 1);
  await assert.rejects(publisher.publish('not.a.stream.subject', '{}', 'x-1'), /no responders/);
  const jsm = await jetstreamManager(nc);
  const before = (await jsm.streams.info(streamName)).state.last_seq;
  const waited = publisher.publish(subjects.inbound('pub-b'), '{"n":1}', 'pub-b-1');
  await assert.rejects(publisher.publish(subjects.inbound('pub-b'), '{"n":2}', 'pub-b-2'), /1 publishes are waiting/);
  assert.equal((await waited).pos, before + 1);
  assert.equal((await jsm.streams.info(streamName)).state.last_seq, before + 1, 'the refused publish was never stored');
});

test('a stream that does not answer in time fails the publish', async () => {
  // A plain subscriber on a subject outside the stream takes the message and never replies.
  const silent = nc.subscribe('pub.silent');
  await nc.flush();
  const publisher = new StreamPublisher(nc, 100);
  await assert.rejects(publisher.publish('pub.silent', '{}', 'silent-1'), /did not acknowledge within 100 ms/);
  silent.unsubscribe();
});
