import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@chorus/shared/logging/logger';
import { MemoryRoomBroker } from '../src/ordering/memory-room-broker.js';
import { RoomHub } from '../src/ordering/room-hub.js';
import { RoomReader } from '../src/ordering/room-reader.js';

const message = (n: number) => ({ id: `m${n}`, room: 'r', sender: 'ann', text: `t${n}`, ts: 1, clientMsgId: `c${n}` });

function hubOn(broker: MemoryRoomBroker, auditMs = 60_000) {
  const log = createLogger('test');
  log.level = 'silent';
  const opened: string[] = [];
  const closed: string[] = [];
  const hub = new RoomHub({
    broker,
    reader: new RoomReader(broker, async () => ({ messages: [], hasMore: false })),
    log,
    storedHead: async () => 0,
    auditMs,
    onRoomOpened: (room) => opened.push(room),
    onRoomClosed: (room) => closed.push(room),
  });
  return { hub, opened, closed };
}

function listener() {
  const got: number[] = [];
  return { got, deliver: (pos: number) => void got.push(pos), sendRaw: () => {} };
}

test('after a reconnect every open room reads what its lost live copies carried', { timeout: 5_000 }, async () => {
  const broker = new MemoryRoomBroker();
  const { hub } = hubOn(broker);
  const socket = listener();
  const feed = await hub.attach('r', socket);
  broker.append(message(1));
  broker.dropLive = () => true; // the connection was down: the room's last copies are lost
  broker.append(message(2));
  broker.append(message(3));
  assert.deepEqual(socket.got, [1]);
  broker.reconnect();
  while (socket.got.length < 3) await feed.settled().then(() => new Promise((resolve) => setImmediate(resolve)));
  assert.deepEqual(socket.got, [1, 2, 3]);
  await hub.close();
});

test('the periodic audit finds a lost copy of a quiet room\'s last message', { timeout: 5_000 }, async () => {
  const broker = new MemoryRoomBroker();
  const { hub } = hubOn(broker, 20);
  const socket = listener();
  await hub.attach('r', socket);
  broker.dropLive = () => true;
  broker.append(message(1));
  while (socket.got.length < 1) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(socket.got, [1]);
  await hub.close();
});

test('a room is open while a local socket is in it, and only then', async () => {
  const broker = new MemoryRoomBroker();
  const { hub, opened, closed } = hubOn(broker);
  const a = listener();
  const b = listener();
  await hub.attach('r', a);
  await hub.attach('r', b);
  await hub.detach('r', a);
  assert.deepEqual([opened, closed], [['r'], []]);
  await hub.detach('r', b);
  assert.deepEqual(closed, ['r']);
  broker.append(message(1));
  assert.deepEqual(b.got, [], 'nothing is delivered to a room nobody is in');
  await hub.close();
});
