import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { startFerretDb, type RunningMongo } from '@chorus/local/servers/ferretdb';
import { collectionsOf, membershipId, type Collections } from '../src/storage/collections.js';
import { ensureIndexes } from '../src/storage/indexes.js';
import { RoomLimits } from '../src/rpc/room-limits.js';
import { RpcError } from '../src/rpc/rpc-error.js';

let mongo: RunningMongo;
let client: MongoClient;
let collections: Collections;
let dataDir: string;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'chorus-room-limits-'));
  mongo = await startFerretDb({ dataDir });
  client = await new MongoClient(mongo.uri).connect();
  collections = collectionsOf(client.db('limits'));
  await ensureIndexes(collections);
});
after(async () => {
  await client?.close();
  await mongo?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const hour = 3_600_000;

async function refusal(promise: Promise<unknown>): Promise<RpcError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof RpcError, `expected a refusal, got ${String(error)}`);
  return error;
}

test('rooms created per hour is a sliding window: the hint is when the oldest room of the hour turns an hour old', async () => {
  let now = Date.UTC(2026, 0, 1, 12);
  const limits = new RoomLimits(collections, { roomsCreatedPerHour: 2, roomsPerUser: 100, membersPerRoom: 100 }, () => now);
  const create = async (room: string) => {
    await limits.beforeCreate('ann');
    await collections.rooms.insertOne({ _id: room, createdBy: 'ann', createdAt: new Date(now) });
  };
  await create('a1');
  now += 10 * 60_000;
  await create('a2');
  now += 5 * 60_000;
  const error = await refusal(limits.beforeCreate('ann'));
  assert.equal(error.code, 'limit_exceeded');
  assert.deepEqual(error.details, { limit: 'roomsCreatedPerHour', retryAfterMs: hour - 15 * 60_000 });
  await limits.beforeCreate('bob'); // another user is not counted
  now += hour - 15 * 60_000 + 1;
  await create('a3'); // a1 left the window
  await refusal(limits.beforeCreate('ann'));
});

test('rooms per user and members per room count memberships in state member only', async () => {
  const limits = new RoomLimits(collections, { roomsCreatedPerHour: 100, roomsPerUser: 2, membersPerRoom: 2 });
  const join = async (room: string, user: string) => {
    await limits.beforeJoin(room, user);
    await collections.memberships.insertOne({ _id: membershipId(room, user), room, user, state: 'member', role: 'member', joinedAt: new Date(), readFrom: 0, fence: 0 });
  };
  await join('r1', 'cy');
  await join('r2', 'cy');
  assert.deepEqual((await refusal(limits.beforeJoin('r3', 'cy'))).details, { limit: 'roomsPerUser' });
  assert.deepEqual((await refusal(limits.beforeCreate('cy'))).details, { limit: 'roomsPerUser' }, 'a creator becomes a member');
  // An invite or a ban is not a membership.
  await collections.memberships.insertOne({ _id: membershipId('r1', 'inv'), room: 'r1', user: 'inv', state: 'invited', role: 'member', joinedAt: new Date(), readFrom: 0, fence: 0 });
  await collections.memberships.insertOne({ _id: membershipId('r9', 'cy'), room: 'r9', user: 'cy', state: 'banned', role: 'member', joinedAt: new Date(), readFrom: 0, fence: 0 });
  await join('r1', 'dee');
  assert.deepEqual((await refusal(limits.beforeJoin('r1', 'eve'))).details, { limit: 'membersPerRoom' });
  await collections.memberships.deleteOne({ _id: membershipId('r1', 'dee') });
  await limits.beforeJoin('r1', 'eve');
});

test('a kept count far from the limit answers without counting; near the limit or old, memberships are counted and the count kept', async () => {
  let now = 1_000_000;
  const limits = new RoomLimits(collections, { roomsCreatedPerHour: 100, roomsPerUser: 1_000, membersPerRoom: 1_000 }, () => now);
  const kept = (key: string) => collections.membershipCounts.findOne({ _id: key });
  const setKept = (key: string, n: number, countedAt = now) => collections.membershipCounts.updateOne({ _id: key }, { $set: { n, countedAt } }, { upsert: true });
  for (let i = 0; i < 3; i++) {
    await collections.memberships.insertOne({ _id: membershipId('wide', `m${i}`), room: 'wide', user: `m${i}`, state: 'member', role: 'member', joinedAt: new Date(), readFrom: 0, fence: 0 });
  }

  await limits.beforeJoin('wide', 'zed');
  assert.deepEqual([await kept('room/wide'), await kept('user/zed')], [null, null], 'none kept, far from the limit: 0, nothing counted');
  limits.joined('wide', 'zed');
  await limits.flush();
  assert.deepEqual([(await kept('room/wide'))?.n, await kept('user/zed')], [1, null], "a join starts the room's count; a user's starts later");
  limits.joined('wide', 'yan');
  limits.joined('wide', 'yan-2');
  assert.equal((await kept('room/wide'))?.n, 1, 'raises are gathered');
  await limits.flush();
  assert.equal((await kept('room/wide'))?.n, 3, 'and written together');
  // Ten minutes after it was started, the count is taken exactly (3 memberships were there before).
  now += 10 * 60_000;
  await limits.beforeJoin('wide', 'xia');
  assert.equal((await kept('room/wide'))?.n, 3, 'an old kept count is counted exactly (3 memberships; the raises counted joins never written)');

  // An estimate far from the limit is believed as it is.
  await setKept('room/wide', 500);
  await limits.beforeJoin('wide', 'yan');
  assert.equal((await kept('room/wide'))?.n, 500, 'far from the limit: not recounted');
  // Within 100 of the limit it is counted again (here it erred high, as after leaves).
  await setKept('room/wide', 950);
  await limits.beforeJoin('wide', 'yan');
  assert.equal((await kept('room/wide'))?.n, 3, 'near the limit: counted exactly');
  // A user's 20th join on this replica counts its memberships exactly and keeps the count.
  for (let i = 0; i < 19; i++) limits.joined(`r-${i}`, 'zed');
  await limits.flush();
  assert.equal(await kept('user/zed'), null);
  await limits.beforeJoin('wide', 'zed');
  assert.equal((await kept('user/zed'))?.n, 0, 'counted at the 20th join (no memberships were written here)');
  limits.joined('wide', 'zed');
  await limits.flush();
  assert.equal((await kept('user/zed'))?.n, 1, 'and raised from then on');
  // A full room is refused from the exact count.
  const tight = new RoomLimits(collections, { roomsCreatedPerHour: 100, roomsPerUser: 1_000, membersPerRoom: 3 }, () => now);
  assert.deepEqual((await refusal(tight.beforeJoin('wide', 'yan'))).details, { limit: 'membersPerRoom' });
});
