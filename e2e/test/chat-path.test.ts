import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import WebSocket from 'ws';
import { bulkSendLimits } from '@chorus/local/limit-env';
import { clientSubprotocols } from '@chorus/shared/protocol/auth-subprotocol';
import { startPlatform, type Platform } from '@chorus/local/platform';
import { ChatClient } from './support/chat-client.js';
import { waitUntil } from './support/wait-until.js';

describe('chat data path on the local platform (2 gateways, 2 message-services)', () => {
  let platform: Platform;
  let dataDir: string;
  let alice: ChatClient;
  let bob: ChatClient;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'chorus-e2e-'));
    platform = await startPlatform({ dataDir, gateways: 2, messageServices: 2, limits: bulkSendLimits });
    alice = await ChatClient.login(platform.gatewayUrls[0]!, 'alice');
    bob = await ChatClient.login(platform.gatewayUrls[1]!, 'bob');
  });

  after(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('1,000 concurrent messages reach the other gateway exactly once, in order, chained, stored, and in history', async () => {
    const created = await alice.request({ type: 'create', room: 'general' });
    assert.equal(created.type, 'joined');
    const joined = await bob.request({ type: 'join', room: 'general' });
    assert.equal(joined.type === 'joined' && joined.head, 0, 'a new room starts at position 0');

    const total = 1000;
    const acks = await Promise.all(
      Array.from({ length: total }, (_, i) => alice.request({ type: 'send', room: 'general', clientMsgId: `m${i}`, text: `hello ${i}` })),
    );
    assert.deepEqual(acks.filter((a) => a.type !== 'ack'), [], 'every send is acked');
    const positions = acks.map((a) => (a.type === 'ack' ? a.pos : 0)).sort((a, b) => a - b);
    assert.equal(new Set(positions).size, total, 'every ack has its own position');

    await bob.waitForMessages('general', total);
    const received = bob.messages('general');
    assert.equal(received.length, total, 'exactly once');
    assert.deepEqual(received.map((m) => m.pos), positions, 'in room order');
    received.forEach((m, i) => assert.equal(m.prev, i === 0 ? 0 : received[i - 1]!.pos, 'each message names its predecessor'));
    const textOf = new Map(acks.map((a) => (a.type === 'ack' ? [a.pos, a.clientMsgId] : [0, ''])));
    for (const message of received) {
      assert.equal(message.sender, 'alice');
      assert.equal(message.text, `hello ${textOf.get(message.pos)!.slice(1)}`);
    }

    // The database write is off the delivery path: wait for the writer to catch up.
    const mongo = await MongoClient.connect(platform.mongoUri);
    try {
      await waitUntil(async () => (await mongo.db('chorus').collection('messages').countDocuments({ room: 'general' })) === total, 30_000);
    } finally {
      await mongo.close();
    }

    const latest = await bob.request({ type: 'history', room: 'general', limit: 200 });
    assert.equal(latest.type, 'history');
    if (latest.type !== 'history') return;
    assert.deepEqual(latest.messages.map((m) => m.pos), positions.slice(-200));
    assert.equal(latest.messages[0]!.prev, positions.at(-201), 'the page names the message before it');
    assert.equal(latest.hasMore, true);
    const older = await bob.request({ type: 'history', room: 'general', before: positions.at(-200)!, limit: 200 });
    assert.deepEqual(older.type === 'history' && older.messages.map((m) => m.pos), positions.slice(-400, -200));
    const forward = await bob.request({ type: 'history', room: 'general', after: positions[499]!, limit: 10 });
    assert.deepEqual(forward.type === 'history' && forward.messages.map((m) => m.pos), positions.slice(500, 510));
  });

  test('a resend with the same clientMsgId is acked with the original id and position and delivered once', async () => {
    const first = await alice.request({ type: 'send', room: 'general', clientMsgId: 'retry-1', text: 'once' });
    const again = await alice.request({ type: 'send', room: 'general', clientMsgId: 'retry-1', text: 'once', resend: true });
    assert.equal(first.type, 'ack');
    assert.deepEqual(again, { ...first, rid: (again as { rid: number }).rid, duplicate: true });
    // Without the resend flag, inside JetStream's duplicate window: also the original.
    const third = await alice.request({ type: 'send', room: 'general', clientMsgId: 'retry-1', text: 'once' });
    assert.deepEqual(third, { ...first, rid: (third as { rid: number }).rid, duplicate: true });
    const marker = await alice.request({ type: 'send', room: 'general', clientMsgId: 'after-retry', text: 'marker' });
    await bob.waitFor((f) => f.type === 'message' && f.text === 'marker');
    assert.equal(marker.type, 'ack');
    assert.equal(bob.messages('general').filter((m) => m.text === 'once').length, 1);
  });

  test('a client that reconnects resumes after its last position without gaps or repeats', async () => {
    const last = bob.messages('general').at(-1)!.pos;
    await bob.close();
    const acks = [];
    for (let i = 0; i < 20; i++) acks.push(await alice.request({ type: 'send', room: 'general', clientMsgId: `offline-${i}`, text: `while away ${i}` }));
    bob = await ChatClient.login(platform.gatewayUrls[1]!, 'bob');
    await bob.request({ type: 'join', room: 'general', after: last });
    await bob.waitForMessages('general', 20);
    const resumed = bob.messages('general');
    assert.deepEqual(resumed.map((m) => m.pos), acks.map((a) => (a.type === 'ack' ? a.pos : 0)));
    assert.equal(resumed[0]!.prev, last, 'the catch-up chains from the resume position');
  });

  test('a non-member can neither post to nor read a room', async () => {
    const mallory = await ChatClient.login(platform.gatewayUrls[0]!, 'mallory');
    try {
      const send = await mallory.request({ type: 'send', room: 'general', clientMsgId: 'x', text: 'hi' });
      assert.equal(send.type === 'error' && send.code, 'not_member');
      const history = await mallory.request({ type: 'history', room: 'general' });
      assert.equal(history.type === 'error' && history.code, 'not_member');
    } finally {
      await mallory.close();
    }
  });

  test('each gateway reports its traffic on /metrics', async () => {
    const text = await (await fetch(`${platform.gatewayMetricsUrls[1]}/metrics`)).text();
    const value = (name: string) => Number(text.match(new RegExp(`^${name} (\\d+)`, 'm'))?.[1] ?? NaN);
    assert.ok(value('chorus_gateway_messages_delivered_total') >= 1000, 'bob\'s gateway counted its deliveries');
    assert.ok(value('chorus_gateway_connections') >= 1);
    assert.match(text, /chorus_gateway_send_ack_seconds_bucket/);
  });

  test('the WebSocket upgrade is refused without a valid token', async () => {
    const url = `${platform.gatewayUrls[0]!.replace(/^http/, 'ws')}/ws`;
    const status = await new Promise<number>((resolve) => {
      const socket = new WebSocket(url, clientSubprotocols('forged'));
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.on('open', () => resolve(101));
      socket.on('error', () => {});
    });
    assert.equal(status, 401);
  });
});
