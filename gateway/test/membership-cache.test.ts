import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedis, type RunningRedis } from '@chorus/local/servers/redis';
import type { MessageServiceClient } from '../src/backend/message-service-client.js';
import { MembershipCache } from '../src/rooms/membership-cache.js';

let dir: string;
let server: RunningRedis;
let redis: Redis;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chorus-membership-'));
  server = await startRedis({ dataDir: dir });
  redis = new Redis(server.url, { password: server.password });
});

after(async () => {
  redis?.disconnect();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a removal announced while a database read is in flight is not undone by that read', async () => {
  let answer: ((members: string[]) => void) | undefined;
  const backend = {
    rooms: () => new Promise((resolve) => (answer = (members) => resolve({ room: 'r', members }))),
  } as unknown as MessageServiceClient;
  const cache = new MembershipCache(redis, backend);
  const asked = cache.isMember('r', 'x'); // a miss of both caches: the database read starts
  while (!answer) await new Promise((resolve) => setImmediate(resolve)); // until the message-service is asked
  await cache.removed('r', 'x');
  answer(['ann', 'x']); // read before the removal: it still lists x
  assert.equal(await asked, false);
  assert.deepEqual((await redis.smembers('room-members:{r}')).filter((u) => u !== '\u0000').sort(), ['ann'], 'the shared set does not list x either');
});

test('a removal drops the user from the shared set every gateway reads', async () => {
  await redis.sadd('room-members:{s}', '\u0000', 'ann', 'y');
  const backend = { rooms: async () => ({ room: 's', members: ['ann'] }) } as unknown as MessageServiceClient;
  const cache = new MembershipCache(redis, backend);
  assert.equal(await cache.isMember('s', 'y'), true, 'from the shared set');
  await cache.removed('s', 'y');
  assert.equal(await cache.isMember('s', 'y'), false);
  assert.equal(await cache.isMember('s', 'ann'), true);
});
