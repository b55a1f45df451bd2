import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { batchingKey, subjects } from '@chorus/shared/bus/names';
import { ensureMessageStream, ensureSettingsBucket } from '@chorus/shared/bus/jetstream-setup';
import { connectNats } from '@chorus/shared/bus/nats-connection';
import { createLogger } from '@chorus/shared/logging/logger';
import { batchSettings } from '@chorus/shared/batching/batch-settings';
import { localBatchBounds, startAutopilotLoop } from '../src/autopilot-loop.js';
import { startNats, type RunningNats } from '../src/servers/nats.js';

let dir: string;
let nats: RunningNats;
let nc: NatsConnection;
let kv: KV;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chorus-autopilot-'));
  nats = await startNats({ dataDir: dir });
  nc = await connectNats(nats.url, 'autopilot test');
  await ensureMessageStream(nc);
  kv = await ensureSettingsBucket(nc);
});
after(async () => {
  await nc?.close();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function batching() {
  const entry = await kv.get(batchingKey);
  return entry?.value.length ? batchSettings.parse(entry.json()) : undefined;
}

test('the local autopilot writes larger batches to KV when a backlog builds, within the bounds', async () => {
  const log = createLogger('autopilot-test');
  log.level = 'silent';
  const loop = await startAutopilotLoop({ nc, kv, log, periodMs: 100 });
  try {
    // No worker consumes: every published message is backlog.
    const js = jetstream(nc);
    const payload = JSON.stringify({ id: 'x', room: 'r', seq: 1, sender: 'u', text: 't', ts: 1, clientMsgId: 'c' });
    await Promise.all(Array.from({ length: 3000 }, (_, i) => js.publish(subjects.inbound('r'), payload, { msgID: `m${i}` })));
    let settings = await batching();
    for (let i = 0; i < 50 && !(settings && settings.batchSize >= 500); i++) {
      await new Promise((r) => setTimeout(r, 100));
      settings = await batching();
    }
    assert.ok(settings, 'settings were written');
    assert.equal(settings.source, 'autopilot');
    assert.ok(settings.batchSize >= 500, `a deep queue gets big batches (${settings.batchSize})`);
    assert.ok(settings.batchSize <= localBatchBounds.maxBatchSize);
    assert.ok(settings.flushIntervalMs >= localBatchBounds.minFlushMs && settings.flushIntervalMs <= localBatchBounds.maxFlushMs);
  } finally {
    loop.stop();
  }
});
