import { test } from 'node:test';
import assert from 'node:assert/strict';

// The browser client's room model (gateway/public/room-state.js) is plain JavaScript without DOM:
// loaded here as the page loads it.
interface ChatLike { pos: number; prev: number; id: string; sender: string; text: string; ts: number }
const roomState = (await import(new URL('../../public/room-state.js', import.meta.url).href)) as {
  newRoom(name: string, head: number): { order: number[]; messages: Map<number, unknown>; hasMore: boolean; lastPos: number };
  receiveMessage(room: unknown, m: ChatLike): unknown;
  mergeHistory(room: unknown, messages: ChatLike[]): void;
  trimOldest(room: unknown, keep: number): number[];
  oldestPos(room: unknown): number;
};
const chat = (pos: number, prev: number): ChatLike => ({ pos, prev, id: `m${pos}`, sender: 'a', text: `t${pos}`, ts: 1 });

test('messages stay in position order without sorting: appends, and history inserted before them', () => {
  const room = roomState.newRoom('r', 10);
  for (const [pos, prev] of [[12, 10], [15, 12], [20, 15]] as const) roomState.receiveMessage(room, chat(pos, prev));
  roomState.mergeHistory(room, [chat(3, 0), chat(7, 3), chat(10, 7)]);
  assert.deepEqual(room.order, [3, 7, 10, 12, 15, 20]);
  assert.equal(roomState.receiveMessage(room, chat(15, 12)), 'duplicate');
  assert.equal(roomState.receiveMessage(room, chat(30, 25)), 'gap');
  assert.deepEqual(room.order, [3, 7, 10, 12, 15, 20], 'a duplicate or a gap adds nothing');
});

test('the window is bounded: the oldest go, and "older" can fetch them again', () => {
  const room = roomState.newRoom('r', 0);
  let prev = 0;
  for (let pos = 1; pos <= 700; pos++) {
    roomState.receiveMessage(room, chat(pos, prev));
    prev = pos;
  }
  assert.deepEqual(roomState.trimOldest(room, 500).length, 200);
  assert.equal(room.messages.size, 500);
  assert.equal(roomState.oldestPos(room), 201);
  assert.equal(room.hasMore, true);
  assert.deepEqual(roomState.trimOldest(room, 500), [], 'nothing more to drop');
});
