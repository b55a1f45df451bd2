import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { FreezableRelay } from '@chorus/local/servers/freezable-relay';
import { startNats, type RunningNats } from '@chorus/local/servers/nats';
import { streamName, subjects } from '@chorus/shared/bus/names';
import { ensureMessageStream } from '@chorus/shared/bus/jetstream-setup';
import { createLogger } from '@chorus/shared/logging/logger';
import { StreamPublisher } from '../src/ordering/stream-publisher.js';
import { StalledLinkWatch } from '../src/ordering/stalled-link-watch.js';

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

let dir: string;
let nats: RunningNats;
let direct: NatsConnection;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chorus-stalled-link-'));
  nats = await startNats({ dataDir: dir });
  direct = await connect({ servers: nats.url });
  await ensureMessageStream(direct);
});
after(async () => {
  await direct?.close();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function watchedConnection(relayPort: number, publishTimeoutMs: number, watchOptions: { silenceMs: number; probeMs: number }) {
  const nc = await connect({ servers: `127.0.0.1:${relayPort}`, reconnectTimeWait: 50, maxReconnectAttempts: -1 });
  const publisher = new StreamPublisher(nc, publishTimeoutMs);
  const warnings: string[] = [];
  const log = createLogger('test', {}, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) });
  const watch = new StalledLinkWatch(nc, publisher, log, watchOptions);
  watch.start();
  const status = { reconnects: 0 };
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'reconnect') status.reconnects++;
  })();
  return { nc, publisher, watch, warnings, status };
}

test('a link that stops delivering is replaced: its waiting publish fails at once and goes again on the new link, stored once', async () => {
  const relay = new FreezableRelay();
  relay.relayTo(nats.url);
  const { nc, publisher, watch, warnings, status } = await watchedConnection(await relay.listen(), 5_000, { silenceMs: 300, probeMs: 200 });
  try {
    const jsm = await jetstreamManager(direct);
    const first = await publisher.publish(subjects.inbound('stall'), '{"n":1}', 'stall-1');
    relay.freezeOpenLinks();
    // The publish reaches the stream (client-to-server still flows); its PubAck is stuck behind the frozen link.
    const outcome = await publisher.publish(subjects.inbound('stall'), '{"n":2}', 'stall-2').then(
      () => 'acked on the frozen link',
      (error: Error) => error.message,
    );
    assert.equal(outcome, 'the NATS link stopped answering and was replaced');
    assert.ok(warnings.includes('NATS link stopped answering (PubAcks owed, no PONG); reconnecting'), `warnings: ${warnings.join(' | ')}`);
    await until(() => status.reconnects >= 1);
    const again = await publisher.publish(subjects.inbound('stall'), '{"n":2}', 'stall-2');
    assert.deepEqual(again, { pos: first.pos + 1, duplicate: true }, 'the retry is the stored original');
    assert.equal((await jsm.streams.info(streamName)).state.last_seq, first.pos + 1, 'stored once');
  } finally {
    watch.stop();
    await nc.close();
    relay.close();
  }
});

test('a stream that is only slow on a working link is waited for: the PONG comes back and nothing reconnects', async () => {
  const relay = new FreezableRelay();
  relay.relayTo(nats.url);
  const { nc, publisher, watch, warnings, status } = await watchedConnection(await relay.listen(), 1_000, { silenceMs: 100, probeMs: 200 });
  try {
    // A plain subscriber outside the stream takes the message and never replies.
    const silent = direct.subscribe('pub.stalled-link.silent');
    await direct.flush();
    await assert.rejects(publisher.publish('pub.stalled-link.silent', '{}', 'silent-1'), /did not acknowledge within 1000 ms/);
    silent.unsubscribe();
    assert.equal(status.reconnects, 0);
    assert.deepEqual(warnings, []);
  } finally {
    watch.stop();
    await nc.close();
    relay.close();
  }
});
