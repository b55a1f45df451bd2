import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredMessage } from '@chorus/shared/bus/payloads';
import type { ChatMessage } from '@chorus/shared/protocol/server-frames';
import { PreparedFrame } from '../src/connection/prepared-frame.js';
import { MemoryRoomBroker } from '../src/ordering/memory-room-broker.js';
import { RoomAttachment } from '../src/ordering/room-attachment.js';
import { RoomFeed } from '../src/ordering/room-feed.js';
import { RoomReader } from '../src/ordering/room-reader.js';

const message = (n: number, room = 'r'): StoredMessage => ({ id: `${room}-${n}`, room, sender: 'ann', text: `t${n}`, ts: 1, clientMsgId: `c${n}` });

async function setUp(history: number) {
  const broker = new MemoryRoomBroker();
  for (let i = 1; i <= history; i++) {
    broker.append(message(i));
    broker.append(message(i, 'other'));
  }
  const reader = new RoomReader(broker, async () => {
    throw new Error('no database in this test');
  });
  const feed = new RoomFeed('r', { read: (after, limit) => reader.read('r', after, limit), recentLimit: 4 });
  await broker.subscribeLive('r', (live) => feed.onLive(live));
  feed.start(await broker.head('r'));
  const frames: ChatMessage[] = [];
  const failures: unknown[] = [];
  const attachment = new RoomAttachment(
    'r',
    { sendRaw: (frame) => frames.push(JSON.parse(typeof frame === 'string' ? frame : frame.json) as ChatMessage) },
    { recentAfter: (after) => feed.recentAfter(after), read: (after, limit) => reader.read('r', after, limit) },
    (_, error) => failures.push(error),
  );
  feed.add(attachment);
  return { broker, feed, attachment, frames, failures };
}

function assertChained(frames: ChatMessage[], from: number): void {
  let last = from;
  for (const frame of frames) {
    assert.equal(frame.prev, last, `prev of ${frame.pos}`);
    last = frame.pos;
  }
}

test('a resume replays from the stream, then live messages that arrived meanwhile, chained from the resume point', async () => {
  const { broker, feed, attachment, frames } = await setUp(1200);
  attachment.startAt(2, feed.head); // the client holds position 2 (not a room position: the stream's other room)
  const catching = attachment.catchUp();
  broker.append(message(1201)); // live while catching up
  await catching;
  broker.append(message(1202));
  assert.equal(frames[0]!.prev, 2, 'the first replayed message chains from the position asked for');
  assertChained(frames, 2);
  assert.equal(frames.length, 1201, 'every room message after position 2: 1199 stored + 2 live');
  assert.equal(new Set(frames.map((f) => f.id)).size, frames.length);
});

test('a resume at the feed head goes live at once; a fresh join starts at the head', async () => {
  const { broker, feed, attachment, frames } = await setUp(3);
  attachment.startAt(undefined, feed.head);
  assert.equal(attachment.catchingUp, false);
  broker.append(message(4));
  assert.deepEqual(frames.map((f) => [f.pos, f.prev]), [[7, 5]]);
});

test('a catch-up from memory needs no read', async () => {
  const { broker, feed, attachment, frames } = await setUp(0);
  feed.remove(attachment);
  for (let i = 1; i <= 10; i++) {
    broker.append(message(i)); // the feed keeps the last 4 in memory
    broker.append(message(i, 'other'));
  }
  feed.add(attachment);
  const before = broker.reads;
  attachment.startAt(15, feed.head); // pos 15 = room message 8
  await attachment.catchUp();
  assert.equal(broker.reads, before);
  assert.deepEqual(frames.map((f) => f.pos), [17, 19]);
  assertChained(frames, 15);
});

test('a catch-up whose read fails stops the room for this socket and reports the position it holds', async () => {
  const { broker, feed, attachment, frames, failures } = await setUp(20);
  broker.failReads = new Error('stream down');
  attachment.startAt(1, feed.head);
  await attachment.catchUp();
  assert.equal(failures.length, 1);
  assert.equal(attachment.position, 1, 'never moved past what it could not read');
  broker.failReads = undefined;
  broker.append(message(21));
  assert.equal(frames.length, 0, 'no live message is sent past the unread range');
});

test('a live frame that does not follow the held position is never sent past the gap', async () => {
  const { broker, feed, attachment, frames, failures } = await setUp(2);
  attachment.startAt(undefined, feed.head);
  // Stored after the feed's head but not delivered here (the attachment missed it):
  feed.remove(attachment);
  broker.append(message(3));
  feed.add(attachment);
  broker.append(message(4));
  await attachment.catchUp();
  assert.deepEqual(frames.map((f) => f.pos), [5, 6], 'the missed message was read, then the live one followed');
  assertChained(frames, 3);
  // A frame whose predecessor the stream does not have: the socket is told to resync, not sent past it.
  attachment.deliver(99, 97, new PreparedFrame(JSON.stringify({ type: 'message', room: 'r', pos: 99, prev: 97, id: 'x', sender: 'a', text: 't', ts: 1 })));
  await attachment.catchUp();
  assert.equal(failures.length, 1);
  assert.equal(attachment.position, 6);
  assert.deepEqual(frames.map((f) => f.pos), [5, 6]);
});
