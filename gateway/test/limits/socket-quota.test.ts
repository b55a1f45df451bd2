import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedis, type RunningRedis } from '@chorus/local/servers/redis';
import { LocalSocketQuota, RedisSocketQuota } from '../../src/limits/socket-quota.js';

let server: RunningRedis;
let dataDir: string;
const clients: Redis[] = [];

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'chorus-quota-'));
  server = await startRedis({ dataDir });
});
after(async () => {
  for (const client of clients) client.disconnect();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function redis(): Redis {
  const client = new Redis(server.url, { maxRetriesPerRequest: 1, password: server.password });
  clients.push(client);
  return client;
}

test('the limit holds across gateways sharing Redis; a released slot is free again', async () => {
  const one = new RedisSocketQuota(redis(), 'gw-1', 3);
  const two = new RedisSocketQuota(redis(), 'gw-2', 3);
  const held = [await one.acquire('ann'), await one.acquire('ann'), await two.acquire('ann')];
  assert.ok(held.every(Boolean));
  assert.equal(await two.acquire('ann'), undefined, 'a 4th socket anywhere is refused');
  assert.equal(await one.acquire('ann'), undefined);
  assert.ok(await one.acquire('bob'), 'another user has slots of their own');
  held[0]!.release();
  held[0]!.release(); // twice is harmless
  let again;
  for (let i = 0; i < 50 && !again; i++) again = await two.acquire('ann'); // the release is fire-and-forget
  assert.ok(again, 'a released slot can be taken again');
  await Promise.all([one.close(), two.close()]);
});

test("a gateway that dies stops refreshing: its slots expire after the TTL, the live gateway's stay", async () => {
  const ttlMs = 600;
  const dead = new RedisSocketQuota(redis(), 'gw-dead', 2, ttlMs);
  const live = new RedisSocketQuota(redis(), 'gw-live', 2, ttlMs);
  assert.ok(await dead.acquire('cy'));
  assert.ok(await live.acquire('cy'));
  await dead.close().catch(() => {});
  // close() removes its slots; a crash would not. Put one back as a crash leaves it, unrefreshed.
  const probe = redis();
  await probe.zadd('user-sockets:{cy}', Date.now() + ttlMs, 'gw-dead/99');
  assert.equal(await live.acquire('cy'), undefined, 'both slots held');
  const deadline = Date.now() + 10 * ttlMs;
  let slot;
  while (!slot && Date.now() < deadline) {
    slot = await live.acquire('cy');
    if (!slot) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(slot, 'the dead gateway slot expired');
  assert.equal(await live.acquire('cy'), undefined, "the live gateway's first slot is still held (refreshed past its TTL)");
  await live.close();
});

test('with Redis unreachable the gateway counts its own sockets', async () => {
  const broken = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
  clients.push(broken);
  const quota = new RedisSocketQuota(broken, 'gw-x', 2);
  assert.ok(await quota.acquire('dee'));
  const second = await quota.acquire('dee');
  assert.ok(second);
  assert.equal(await quota.acquire('dee'), undefined);
  second.release();
  assert.ok(await quota.acquire('dee'));
  await quota.close();
});

test('the local count forgets a user with no socket left', async () => {
  const quota = new LocalSocketQuota(5);
  const slots = await Promise.all(Array.from({ length: 50 }, (_, i) => quota.acquire(`u${i % 10}`)));
  assert.equal(slots.filter(Boolean).length, 50);
  assert.equal(quota.trackedUsers(), 10);
  for (const slot of slots) slot!.release();
  assert.equal(quota.trackedUsers(), 0);
});
