import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedis, type RunningRedis } from '@chorus/local/servers/redis';
import { RoomSequencer } from '../src/enqueue/room-sequencer.js';

let dir: string;
let server: RunningRedis;
let redis: Redis;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chorus-seq-'));
  server = await startRedis({ dataDir: dir });
  redis = new Redis(server.url, { enableAutoPipelining: true });
});
after(async () => {
  redis?.disconnect();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('concurrent assigns across two gateways give each message a unique, gapless seq', async () => {
  const second = new Redis(server.url, { enableAutoPipelining: true });
  try {
    const heads: string[] = [];
    const a = new RoomSequencer(redis, async (room) => (heads.push(room), 0));
    const b = new RoomSequencer(second, async (room) => (heads.push(room), 0));
    const seqs = await Promise.all(Array.from({ length: 1000 }, (_, i) => (i % 2 ? a : b).assign('busy', `m${i}`)));
    assert.deepEqual([...seqs].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i + 1));
    assert.ok(heads.length <= 2, `the durable head is read once per gateway at most, not per message (${heads.length})`);
  } finally {
    second.disconnect();
  }
});

test('the same message id gets the same seq again (a retried send burns no number)', async () => {
  const sequencer = new RoomSequencer(redis, async () => 0);
  const first = await sequencer.assign('retry', 'id-1');
  const again = await sequencer.assign('retry', 'id-1');
  const next = await sequencer.assign('retry', 'id-2');
  assert.equal(again, first);
  assert.equal(next, first + 1);
});

test('a missing counter is seeded from the durable head, so numbers continue after Redis loses its data', async () => {
  const sequencer = new RoomSequencer(redis, async () => 41);
  assert.equal(await sequencer.assign('old-room', 'x'), 42);
  await redis.flushall();
  assert.equal(await sequencer.assign('old-room', 'y'), 42, 'reseeded from the head, which still says 41');
});

test('a room created just now starts at 1 without reading the durable head', async () => {
  let reads = 0;
  const sequencer = new RoomSequencer(redis, async () => (reads++, 99));
  await sequencer.created('fresh');
  assert.equal(await sequencer.assign('fresh', 'first'), 1);
  assert.equal(reads, 0);
});
