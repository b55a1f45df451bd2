import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatMessage } from '@chorus/shared/protocol/server-frames';
import { RoomAttachment } from '../src/connection/room-attachment.js';

const msg = (seq: number): ChatMessage => ({ room: 'r', seq, id: `id${seq}`, sender: 'u', text: `t${seq}`, ts: seq });
const frame = (seq: number) => JSON.stringify({ type: 'message', ...msg(seq) });

test('without a resume point, live messages pass straight through', () => {
  const sent: number[] = [];
  const attachment = new RoomAttachment('r', { sendRaw: (f) => sent.push(JSON.parse(f).seq) }, undefined);
  attachment.deliver(7, frame(7));
  attachment.deliver(8, frame(8));
  attachment.deliver(8, frame(8));
  assert.deepEqual(sent, [7, 8]);
});

test('resume: history after the resume point first, then live messages that arrived meanwhile, no repeats', async () => {
  const sent: number[] = [];
  const attachment = new RoomAttachment('r', { sendRaw: (f) => sent.push(JSON.parse(f).seq) }, 4);
  attachment.deliver(9, frame(9)); // live, while catching up
  const pages = [
    { messages: [5, 6, 7].map(msg), hasMore: true },
    { messages: [8, 9].map(msg), hasMore: false },
  ];
  const asked: number[] = [];
  await attachment.catchUp(async (after) => {
    asked.push(after);
    attachment.deliver(10, frame(10)); // more live traffic during the fetch
    return pages.shift()!;
  });
  attachment.deliver(11, frame(11));
  assert.deepEqual(asked, [4, 7]);
  assert.deepEqual(sent, [5, 6, 7, 8, 9, 10, 11]);
});
