import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import WebSocket from 'ws';
import { startPlatform, type Platform } from '@chorus/local/platform';
import { ChatClient } from './support/chat-client.js';

describe('chat data path on the local platform (2 gateways, 2 message-services)', () => {
  let platform: Platform;
  let dataDir: string;
  let alice: ChatClient;
  let bob: ChatClient;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'chorus-e2e-'));
    platform = await startPlatform({ dataDir, gateways: 2, messageServices: 2 });
    alice = await ChatClient.login(platform.gatewayUrls[0]!, 'alice');
    bob = await ChatClient.login(platform.gatewayUrls[1]!, 'bob');
  });

  after(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('1,000 concurrent messages reach the other gateway exactly once, in order, stored, and in history', async () => {
    const created = await alice.request({ type: 'create', room: 'general' });
    assert.equal(created.type, 'joined');
    const joined = await bob.request({ type: 'join', room: 'general' });
    assert.equal(joined.type, 'joined');

    const total = 1000;
    const acks = await Promise.all(
      Array.from({ length: total }, (_, i) => alice.request({ type: 'send', room: 'general', clientMsgId: `m${i}`, text: `hello ${i}` })),
    );
    assert.deepEqual(acks.filter((a) => a.type !== 'ack'), [], 'every send is acked');
    const seqs = acks.map((a) => (a.type === 'ack' ? a.seq : 0)).sort((a, b) => a - b);
    assert.deepEqual(seqs, Array.from({ length: total }, (_, i) => i + 1), 'acks carry gapless room seqs 1..1000');

    await bob.waitForMessages('general', total);
    await new Promise((r) => setTimeout(r, 300)); // a duplicate would arrive right after
    const received = bob.messages('general');
    assert.equal(received.length, total, 'exactly once');
    assert.deepEqual(received.map((m) => m.seq), seqs, 'in per-room seq order');
    assert.equal(new Set(received.map((m) => m.id)).size, total);
    const bySeq = new Map(acks.map((a) => [a.type === 'ack' ? a.seq : 0, a.type === 'ack' ? a.clientMsgId : '']));
    for (const message of received) {
      assert.equal(message.sender, 'alice');
      assert.equal(message.text, `hello ${bySeq.get(message.seq)!.slice(1)}`);
    }

    const mongo = await MongoClient.connect(platform.mongoUri);
    try {
      const stored = await mongo.db('chorus').collection('messages').countDocuments({ room: 'general' });
      assert.equal(stored, total, 'all stored in MongoDB');
    } finally {
      await mongo.close();
    }

    const latest = await bob.request({ type: 'history', room: 'general', limit: 200 });
    assert.equal(latest.type, 'history');
    if (latest.type !== 'history') return;
    assert.deepEqual(latest.messages.map((m) => m.seq), Array.from({ length: 200 }, (_, i) => 801 + i));
    assert.equal(latest.hasMore, true);
    const older = await bob.request({ type: 'history', room: 'general', before: 801, limit: 200 });
    assert.equal(older.type === 'history' && older.messages[0]?.seq, 601);
  });

  test('a resend with the same clientMsgId is acked with the same id and seq and delivered once', async () => {
    const first = await alice.request({ type: 'send', room: 'general', clientMsgId: 'retry-1', text: 'once' });
    const again = await alice.request({ type: 'send', room: 'general', clientMsgId: 'retry-1', text: 'once' });
    assert.equal(first.type, 'ack');
    assert.deepEqual(again, { ...first, rid: (again as { rid: number }).rid });
    await bob.waitFor((f) => f.type === 'message' && f.text === 'once');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(bob.messages('general').filter((m) => m.text === 'once').length, 1);
  });

  test('a client that reconnects resumes from its last seq without gaps or repeats', async () => {
    const lastSeq = bob.messages('general').at(-1)!.seq;
    await bob.close();
    for (let i = 0; i < 20; i++) await alice.request({ type: 'send', room: 'general', clientMsgId: `offline-${i}`, text: `while away ${i}` });
    bob = await ChatClient.login(platform.gatewayUrls[1]!, 'bob');
    await bob.request({ type: 'join', room: 'general', afterSeq: lastSeq });
    await bob.waitForMessages('general', 20);
    assert.deepEqual(bob.messages('general').map((m) => m.seq), Array.from({ length: 20 }, (_, i) => lastSeq + 1 + i));
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
    const text = await (await fetch(`${platform.gatewayUrls[1]}/metrics`)).text();
    const value = (name: string) => Number(text.match(new RegExp(`^${name} (\\d+)`, 'm'))?.[1] ?? NaN);
    assert.ok(value('chorus_gateway_messages_delivered_total') >= 1000, 'bob\'s gateway counted its deliveries');
    assert.ok(value('chorus_gateway_connections') >= 1);
    assert.match(text, /chorus_gateway_send_ack_seconds_bucket/);
  });

  test('the WebSocket upgrade is refused without a valid token', async () => {
    const url = `${platform.gatewayUrls[0]!.replace(/^http/, 'ws')}/ws?token=forged`;
    const status = await new Promise<number>((resolve) => {
      const socket = new WebSocket(url);
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.on('open', () => resolve(101));
      socket.on('error', () => {});
    });
    assert.equal(status, 401);
  });
});
