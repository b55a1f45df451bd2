import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredMessage } from '@chorus/shared/bus/payloads';
import { MemoryRoomBroker } from '../src/ordering/memory-room-broker.js';
import { RoomFeed } from '../src/ordering/room-feed.js';
import { RoomReader } from '../src/ordering/room-reader.js';

const message = (room: string, n: number): StoredMessage => ({ id: `${room}-${n}`, room, sender: 'ann', text: `t${n}`, ts: 1, clientMsgId: `c${n}` });

/** A feed on an in-memory broker, with a listener recording (pos, prev). */
async function feedOn(broker: MemoryRoomBroker, room = 'r', options: { maxPending?: number; pageSize?: number; onGapSkipped?: (cursor: number, missing: number) => void } = {}) {
  const reader = new RoomReader(broker, async () => {
    throw new Error('no database in this test');
  });
  const feed = new RoomFeed(room, { read: (after, limit) => reader.read(room, after, limit), retryMs: 1, maxRetryMs: 5, ...options });
  await broker.subscribeLive(room, (live) => feed.onLive(live));
  feed.start(await broker.head(room));
  const got: [number, number][] = [];
  feed.add({ deliver: (pos, prev, frame) => {
    assert.equal(JSON.parse(frame.json).prev, prev);
    got.push([pos, prev]);
  } });
  return { feed, got };
}

/** Every (pos, prev) chains: each prev is the position before it. */
function assertChained(got: [number, number][], from: number): void {
  let last = from;
  for (const [pos, prev] of got) {
    assert.equal(prev, last, `prev of ${pos}`);
    assert.ok(pos > last);
    last = pos;
  }
}

test('live copies pass straight through, chained, with other rooms interleaved in the stream', async () => {
  const broker = new MemoryRoomBroker();
  const { got } = await feedOn(broker);
  for (let i = 1; i <= 5; i++) {
    broker.append(message('r', i));
    broker.append(message('other', i));
  }
  assert.deepEqual(got.map(([pos]) => pos), [1, 3, 5, 7, 9]);
  assertChained(got, 0);
  assert.equal(broker.reads, 0, 'no read when nothing was missed');
});

test('a lost live copy is noticed by the next one and read from the stream at once', async () => {
  const broker = new MemoryRoomBroker();
  const { feed, got } = await feedOn(broker);
  broker.append(message('r', 1));
  broker.dropLive = (live) => live.pos === 2 || live.pos === 3;
  broker.append(message('r', 2));
  broker.append(message('r', 3));
  broker.dropLive = () => false;
  broker.append(message('r', 4));
  await feed.settled();
  assert.deepEqual(got.map(([pos]) => pos), [1, 2, 3, 4]);
  assertChained(got, 0);
});

test('a lost copy of the room\'s last message is found by the audit', async () => {
  const broker = new MemoryRoomBroker();
  const { feed, got } = await feedOn(broker);
  broker.dropLive = () => true;
  broker.append(message('r', 1));
  assert.equal(got.length, 0);
  feed.audit(await broker.head('r'));
  await feed.settled();
  assert.deepEqual(got, [[1, 0]]);
});

test('reads that fail are retried; nothing is emitted past the gap meanwhile, nothing is lost after', async () => {
  const broker = new MemoryRoomBroker();
  const { feed, got } = await feedOn(broker);
  broker.append(message('r', 1));
  broker.failReads = new Error('stream unavailable');
  broker.dropLive = (live) => live.pos === 2;
  broker.append(message('r', 2));
  broker.dropLive = () => false;
  broker.append(message('r', 3));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(got.map(([pos]) => pos), [1], 'held behind the gap');
  assert.ok(broker.reads >= 2, 'retried');
  broker.failReads = undefined;
  await feed.settled();
  assert.deepEqual(got.map(([pos]) => pos), [1, 2, 3]);
  assertChained(got, 0);
});

test('held copies are bounded: beyond the bound they are dropped and read from the stream', async () => {
  const broker = new MemoryRoomBroker();
  const { feed, got } = await feedOn(broker, 'r', { maxPending: 10, pageSize: 7 });
  broker.failReads = new Error('down');
  broker.dropLive = (live) => live.pos === 1;
  broker.append(message('r', 0));
  broker.dropLive = () => false;
  for (let i = 1; i < 500; i++) broker.append(message('r', i));
  assert.ok(feed.pendingCount <= 10, `pending ${feed.pendingCount}`);
  broker.failReads = undefined;
  await feed.settled();
  assert.equal(got.length, 500);
  assertChained(got, 0);
});

test('recentAfter serves a catch-up from memory only when memory holds the whole range', async () => {
  const broker = new MemoryRoomBroker();
  const { feed } = await feedOn(broker);
  for (let i = 1; i <= 4; i++) {
    broker.append(message('r', i)); // 1, 3, 5, 7
    broker.append(message('x', i));
  }
  assert.deepEqual(feed.recentAfter(3)?.map((m) => m.pos), [5, 7]);
  assert.deepEqual(feed.recentAfter(0)?.map((m) => m.pos), [1, 3, 5, 7]);
  assert.deepEqual(feed.recentAfter(7), []);
  assert.equal(feed.recentAfter(8), undefined, 'a position beyond what the feed has seen');
});

test('a feed that opens on a room with history starts after its head', async () => {
  const broker = new MemoryRoomBroker();
  broker.append(message('r', 1));
  broker.append(message('r', 2));
  const { got } = await feedOn(broker);
  broker.append(message('r', 3));
  assert.deepEqual(got, [[3, 2]]);
});

test('a predecessor the stream does not show yet (a lagging replica) is waited for, not skipped', async () => {
  const broker = new MemoryRoomBroker();
  const { feed, got } = await feedOn(broker);
  broker.append(message('r', 1));
  broker.dropLive = (live) => live.pos === 2;
  broker.append(message('r', 2));
  broker.dropLive = () => false;
  // The replica that answers reads has neither 2 nor 3 yet; 3's live copy names 2.
  broker.hidden.add(2).add(3);
  broker.append(message('r', 3));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(got.map(([pos]) => pos), [1], 'held while 2 cannot be read');
  broker.hidden.clear();
  await feed.settled();
  assert.deepEqual(got.map(([pos]) => pos), [1, 2, 3]);
  assertChained(got, 0);
});

test('a predecessor that stays out of the stream is passed over after a while, and reported', async () => {
  const broker = new MemoryRoomBroker();
  const skipped: [number, number][] = [];
  const { feed, got } = await feedOn(broker, 'r', { onGapSkipped: (cursor, missing) => skipped.push([cursor, missing]) });
  broker.append(message('r', 1));
  broker.dropLive = (live) => live.pos === 2;
  broker.append(message('r', 2));
  broker.dropLive = () => false;
  broker.hidden.add(2).add(3); // reads never show them
  broker.append(message('r', 3));
  await feed.settled();
  assert.deepEqual(got.map(([pos]) => pos), [1, 3], '3 from its live copy, past the missing 2');
  assert.deepEqual(skipped, [[1, 2]]);
});
