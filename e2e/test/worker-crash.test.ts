import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { startPlatform, type Platform } from '@chorus/local/platform';
import { ChatClient } from './support/chat-client.js';

let dataDir: string;
let platform: Platform;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'chorus-crash-'));
  platform = await startPlatform({ dataDir, gateways: 2, messageServices: 2, batching: { batchSize: 50, flushIntervalMs: 20 } });
});
after(async () => {
  await platform?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a worker killed mid-stream loses nothing: every acked message arrives once, in order', { timeout: 120_000 }, async () => {
  const alice = await ChatClient.login(platform.gatewayUrls[0]!, 'alice');
  const bob = await ChatClient.login(platform.gatewayUrls[1]!, 'bob');
  try {
    await alice.request({ type: 'create', room: 'crash' });
    await bob.request({ type: 'join', room: 'crash' });
    const total = 2000;
    const sends = Array.from({ length: total }, (_, i) => alice.request({ type: 'send', room: 'crash', clientMsgId: `c${i}`, text: `m${i}` }));
    // Kill one worker while batches are in flight: its unacked batch comes back after ack_wait.
    await bob.waitForMessages('crash', 100);
    await platform.crash('message-service-1');
    const acks = await Promise.all(sends);
    assert.equal(acks.filter((a) => a.type === 'ack').length, total, 'sends are acked while a worker is down (the queue holds them)');
    await platform.restart('message-service-1');

    await bob.waitForMessages('crash', total, 90_000);
    await new Promise((r) => setTimeout(r, 500));
    const seqs = bob.messages('crash').map((m) => m.seq);
    assert.equal(seqs.length, total, 'exactly once');
    assert.deepEqual(seqs, Array.from({ length: total }, (_, i) => i + 1), 'in order, no gap');

    const mongo = await MongoClient.connect(platform.mongoUri);
    try {
      assert.equal(await mongo.db('chorus').collection('messages').countDocuments({ room: 'crash' }), total);
    } finally {
      await mongo.close();
    }
  } finally {
    await Promise.all([alice.close(), bob.close()]);
  }
});
