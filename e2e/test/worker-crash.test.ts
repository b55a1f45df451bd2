import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { bulkSendLimits } from '@chorus/local/limit-env';
import { startPlatform, type Platform } from '@chorus/local/platform';
import { ChatClient } from './support/chat-client.js';
import { waitUntil } from './support/wait-until.js';

let dataDir: string;
let platform: Platform;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'chorus-crash-'));
  platform = await startPlatform({ dataDir, gateways: 2, messageServices: 2, batching: { batchSize: 50, flushIntervalMs: 20 }, ackWaitMs: 2_000, limits: bulkSendLimits });
});
after(async () => {
  await platform?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a writer killed mid-stream delays nothing and loses nothing: delivery goes on, MongoDB catches up', { timeout: 120_000 }, async () => {
  const alice = await ChatClient.login(platform.gatewayUrls[0]!, 'alice');
  const bob = await ChatClient.login(platform.gatewayUrls[1]!, 'bob');
  const mongo = await MongoClient.connect(platform.mongoUri);
  try {
    await alice.request({ type: 'create', room: 'crash' });
    await bob.request({ type: 'join', room: 'crash' });
    const total = 2000;
    const sends = Array.from({ length: total }, (_, i) => alice.request({ type: 'send', room: 'crash', clientMsgId: `c${i}`, text: `m${i}` }));
    await bob.waitForMessages('crash', 100);
    await platform.crash('message-service-1');
    const acks = await Promise.all(sends);
    assert.equal(acks.filter((a) => a.type === 'ack').length, total, 'sends are acked while a writer is down');

    // Delivery does not wait for the database: everything arrives with one writer dead.
    await bob.waitForMessages('crash', total, 30_000);
    const received = bob.messages('crash');
    assert.equal(received.length, total, 'exactly once');
    received.forEach((m, i) => assert.equal(m.prev, i === 0 ? 0 : received[i - 1]!.pos, 'in order, chained'));

    // The crashed writer's unacked batch comes back after ack_wait to the other writer.
    const messages = mongo.db('chorus').collection('messages');
    await waitUntil(async () => (await messages.countDocuments({ room: 'crash' })) === total, 60_000, 'MongoDB has every acked message');
    await platform.restart('message-service-1');
  } finally {
    await mongo.close();
    await Promise.all([alice.close(), bob.close()]);
  }
});
