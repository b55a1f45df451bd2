import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlatform, type Platform } from '@chorus/local/platform';
import { ChatClient } from './support/chat-client.js';

let dataDir: string;
let platform: Platform | undefined;

before(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'chorus-restart-'));
});
after(async () => {
  await platform?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('data survives a restart of the whole platform, and positions continue from the stream even with Redis emptied', async () => {
  platform = await startPlatform({ dataDir, gateways: 1, messageServices: 1, persistRedis: false });
  let erin = await ChatClient.login(platform.gatewayUrls[0]!, 'erin');
  await erin.request({ type: 'create', room: 'durable' });
  const positions: number[] = [];
  for (let i = 1; i <= 5; i++) {
    const ack = await erin.request({ type: 'send', room: 'durable', clientMsgId: `before-${i}`, text: `before ${i}` });
    assert.equal(ack.type, 'ack');
    if (ack.type === 'ack') positions.push(ack.pos);
  }
  await erin.waitForMessages('durable', 5);
  await erin.close();
  await platform.stop();

  platform = await startPlatform({ dataDir, gateways: 1, messageServices: 1, persistRedis: false });
  erin = await ChatClient.login(platform.gatewayUrls[0]!, 'erin');
  try {
    const rooms = await erin.request({ type: 'rooms' });
    assert.deepEqual(rooms.type === 'rooms' && rooms.rooms, [{ room: 'durable', head: positions[4], visibility: 'public', role: 'owner' }]);
    const joined = await erin.request({ type: 'join', room: 'durable' });
    assert.equal(joined.type === 'joined' && joined.head, positions[4]);
    const history = await erin.request({ type: 'history', room: 'durable' });
    assert.deepEqual(history.type === 'history' && history.messages.map((m) => m.text), [1, 2, 3, 4, 5].map((i) => `before ${i}`));
    const ack = await erin.request({ type: 'send', room: 'durable', clientMsgId: 'after-1', text: 'after' });
    assert.ok(ack.type === 'ack' && ack.pos > positions[4]!, 'positions continue after the stored ones');
    const live = await erin.waitFor((f) => f.type === 'message' && f.text === 'after');
    assert.equal(live.type === 'message' && live.prev, positions[4], 'and chain onto them');
  } finally {
    await erin.close();
  }
});
