import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatMessage } from '@chorus/shared/protocol/server-frames';
import { RoomFeed } from '../src/rooms/room-feed.js';

const msg = (seq: number): ChatMessage => ({ room: 'r', seq, id: `id${seq}`, sender: 'u', text: `t${seq}`, ts: seq });

function collect(feed: RoomFeed): number[] {
  const seen: number[] = [];
  feed.add({ deliver: (seq) => seen.push(seq) });
  return seen;
}

test('emits in seq order whatever order batches arrive in, and drops repeats', () => {
  const feed = new RoomFeed('r', 0, { fetchAfter: async () => [] });
  const seen = collect(feed);
  feed.push([msg(3), msg(4)]);
  assert.deepEqual(seen, [], 'waits for 1 and 2');
  feed.push([msg(2), msg(1)]);
  feed.push([msg(1), msg(3), msg(5)]);
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  assert.equal(feed.head, 5);
  feed.close();
});

test('serializes each message once for all listeners', () => {
  const feed = new RoomFeed('r', 0, { fetchAfter: async () => [] });
  const frames: string[] = [];
  feed.add({ deliver: (_, frame) => frames.push(frame) });
  feed.add({ deliver: (_, frame) => frames.push(frame) });
  feed.push([msg(1)]);
  assert.equal(frames.length, 2);
  assert.equal(frames[0], frames[1]);
  assert.deepEqual(JSON.parse(frames[0]!), { type: 'message', ...msg(1) });
});

test('fills a gap from history', async () => {
  const asked: number[] = [];
  const feed = new RoomFeed('r', 10, { gapCheckMs: 5, fetchAfter: async (after) => (asked.push(after), [msg(11), msg(12)]) });
  const seen = collect(feed);
  feed.push([msg(13)]);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(asked, [10]);
  assert.deepEqual(seen, [11, 12, 13]);
  feed.close();
});

test('skips a gap that history cannot fill after the skip timeout, and says so', async () => {
  const skipped: [number, number][] = [];
  const feed = new RoomFeed('r', 0, {
    gapCheckMs: 5,
    gapSkipMs: 30,
    fetchAfter: async () => [],
    onGapSkipped: (from, to) => skipped.push([from, to]),
  });
  const seen = collect(feed);
  feed.push([msg(3)]);
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(skipped, [[1, 2]]);
  assert.deepEqual(seen, [3]);
  feed.close();
});
