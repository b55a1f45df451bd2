import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { startNats, type RunningNats } from '@chorus/local/servers/nats';
import { consumerName, streamName } from '@chorus/shared/bus/names';
import { ensureMessageStream } from '@chorus/shared/bus/jetstream-setup';
import { StreamTrimmer } from '../src/pipeline/stream-trimmer.js';
import { chat, enqueue, enqueueInOrder } from './support/messages.js';

let dir: string;
let nats: RunningNats;
let nc: NatsConnection;
const hour = 3600 * 1000;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chorus-trim-'));
  nats = await startNats({ dataDir: dir });
  nc = await connect({ servers: nats.url });
});
after(async () => {
  await nc?.close();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(streamName).catch(() => {});
});

/** The writer's side: pull `count` messages and ack the first `acked` of them, leaving the rest pending. */
async function writeSome(count: number, acked: number): Promise<JsMsg[]> {
  const consumer = await jetstream(nc).consumers.get(streamName, consumerName);
  const taken: JsMsg[] = [];
  for await (const m of await consumer.fetch({ max_messages: count, expires: 5_000 })) {
    if (taken.push(m) === count) break;
  }
  for (const m of taken.slice(0, acked)) await m.ackAck();
  return taken;
}

const trimmer = (retainMs: number, writtenShare = 0.5) => new StreamTrimmer(nc, { retainMs, writtenShare });

test('written messages leave the stream after the retain window, unwritten ones never do', async () => {
  await ensureMessageStream(nc, { ackWaitMs: 60_000 });
  const positions = await enqueueInOrder(jetstream(nc), Array.from({ length: 10 }, (_, i) => chat('trim', i + 1)));
  await writeSome(10, 6);

  const young = await trimmer(hour).trim();
  assert.equal(young.purged, 0, 'nothing is older than an hour');

  const old = await trimmer(0).trim();
  assert.equal(old.writtenFloor, positions[5]);
  assert.equal(old.purged, 6, 'every written message went');
  assert.equal(old.firstAfter, positions[6], 'the first unwritten one is the stream\'s first now');
  const again = await trimmer(0).trim();
  assert.equal(again.purged, 0, 'and no pass goes past the written floor');
  const { state } = await (await jetstreamManager(nc)).streams.info(streamName);
  assert.equal(state.messages, 4);
});

test('a full stream refuses publishes instead of dropping unwritten messages; past its written share the oldest written ones go, however young', async () => {
  const maxBytes = 256 * 1024;
  await ensureMessageStream(nc, { ackWaitMs: 60_000, maxBytes });
  const js = jetstream(nc);
  const text = 'x'.repeat(4_000);
  let stored = 0;
  let refusal: Error | undefined;
  for (let n = 1; n <= 200 && !refusal; n++) {
    try {
      await enqueue(js, chat('full', n, text));
      stored++;
    } catch (error) {
      refusal = error as Error;
    }
  }
  assert.ok(refusal, `the stream took all ${stored} messages of 4 KB into ${maxBytes} bytes`);
  assert.match(refusal.message, /maximum bytes exceeded/i);

  const unwritten = await trimmer(0).trim();
  assert.equal(unwritten.purged, 0, 'nothing written, nothing trimmed: the stream stays full');
  await assert.rejects(enqueue(js, chat('full', 1_000, text)), /maximum bytes exceeded/i);

  await writeSome(stored, stored);
  const written = await trimmer(hour).trim();
  assert.ok(written.purged > 0, 'all young, but the stream is past its written share');
  const { state } = await (await jetstreamManager(nc)).streams.info(streamName);
  assert.ok(state.bytes <= maxBytes * 0.5 + 8_000, `about half of max_bytes is left (${state.bytes} bytes)`);
  assert.ok((await enqueue(js, chat('full', 1_001, text))) > 0, 'and publishes are taken again');
});
