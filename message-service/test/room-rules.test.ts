import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { MongoClient } from 'mongodb';
import { subjects } from '@chorus/shared/bus/names';
import type { EditLease, HistoryResult, MemberChange, RoomInfo, RoomsResults, RpcReply } from '@chorus/shared/bus/payloads';
import { startMessageService, type MessageService } from '../src/service.js';
import { MemberStore } from '../src/rooms/member-store.js';
import { collectionsOf } from '../src/storage/collections.js';
import { RpcError } from '../src/rpc/rpc-error.js';
import { startBackends, type Backends } from './support/backends.js';
import { capturedLogger } from './support/captured-logger.js';
import { chat, enqueue, eventually } from './support/messages.js';

/*
 * The room rules against real servers: nats-server, FerretDB and two message-service replicas
 * sharing one database, so consecutive requests land on either replica (one queue group).
 */
const leaseMs = 1_500;
let backends: Backends;
let replicas: MessageService[] = [];
let nc: NatsConnection;
let mongo: MongoClient;

before(async () => {
  backends = await startBackends();
  nc = await connect({ servers: backends.nats.url });
  mongo = await new MongoClient(backends.mongo.uri).connect();
  const start = (name: string) =>
    startMessageService({ natsUrl: backends.nats.url, mongoUri: backends.mongo.uri, mongoDb: 'rules', name, logger: process.env.ROOMS_TEST_LOG ? undefined : capturedLogger().log, statsIntervalMs: 0, editLeaseMs: leaseMs });
  replicas = [await start('ms-a'), await start('ms-b')];
});

after(async () => {
  await Promise.all(replicas.map((r) => r.close()));
  await nc?.close();
  await mongo?.close();
  await backends?.stop();
});

async function call<T>(subject: string, body: unknown): Promise<RpcReply<T>> {
  return (await nc.request(subject, JSON.stringify(body), { timeout: 5_000 })).json<RpcReply<T>>();
}
const rooms = <T>(body: Record<string, unknown>) => call<T>(subjects.roomsRpc, body);
const admin = <T>(body: Record<string, unknown>) => call<T>(subjects.roomAdminRpc, body);

async function ok<T>(reply: Promise<RpcReply<T>>, what: string): Promise<T> {
  const r = await reply;
  assert.ok(r.ok, `${what}: ${JSON.stringify(r)}`);
  return r.result;
}
async function refused(reply: Promise<RpcReply<unknown>>, code: string, what: string): Promise<RpcReply<unknown> & { ok: false }> {
  const r = await reply;
  assert.ok(!r.ok, `${what} should be refused with ${code}, got ${JSON.stringify(r)}`);
  assert.equal(r.code, code, `${what}: ${r.message}`);
  return r;
}

/** An admin's session: acquires the lease on a member's entry (or the settings) and writes under it. */
function sessionOf(actor: string, session = `${actor}-1`) {
  return {
    lease: (room: string, target: string) => ok(admin<EditLease>({ op: 'lease_acquire', room, actor, session, target }), `${actor} acquires ${target}`),
    acquire: (room: string, target: string) => admin<EditLease>({ op: 'lease_acquire', room, actor, session, target }),
    write: (op: string, room: string, user: string, fence: number) => admin<MemberChange>({ op, room, actor, session, fence, user }),
    /** Acquire member:<user>, apply op, release. */
    async apply(op: string, room: string, user: string): Promise<RpcReply<MemberChange>> {
      const lease = await this.acquire(room, `member:${user}`);
      if (!lease.ok) return lease as RpcReply<MemberChange>;
      const reply = await this.write(op, room, user, lease.result.fence);
      await admin({ op: 'lease_release', room, actor, session, target: `member:${user}`, fence: lease.result.fence });
      return reply;
    },
  };
}
const info = (room: string, actor: string) => ok(admin<RoomInfo>({ op: 'info', room, actor }), `info of ${room}`);
const roleOf = async (room: string, user: string, asker: string) => (await info(room, asker)).members.find((m) => m.user === user)?.role;
const history = (room: string, user: string, extra: Record<string, unknown> = {}) => call<HistoryResult>(subjects.historyRpc, { room, user, limit: 100, ...extra });

test('a private room is joined only by invite; a non-member reads nothing; the invite shows in the room list', async () => {
  await ok(rooms({ op: 'create', room: 'secret', user: 'ann', visibility: 'private' }), 'create');
  await refused(rooms({ op: 'join', room: 'secret', user: 'bob' }), 'not_invited', 'join without invite');
  await refused(history('secret', 'bob'), 'not_member', 'history of a non-member');
  const ann = sessionOf('ann');
  assert.deepEqual(await ok(ann.apply('invite', 'secret', 'bob'), 'invite'), { room: 'secret', user: 'bob', state: 'invited' });
  const list = await ok(rooms<RoomsResults['list']>({ op: 'list', user: 'bob' }), 'list');
  assert.deepEqual(list.invites, ['secret']);
  assert.equal(list.rooms.length, 0, 'an invite is not a membership');
  await refused(rooms({ op: 'join', room: 'secret', user: 'carol' }), 'not_invited', 'another user still needs an invite');
  const joined = await ok(rooms<RoomsResults['join']>({ op: 'join', room: 'secret', user: 'bob' }), 'join by invite');
  assert.equal(joined.readFrom, 0);
  assert.deepEqual((await ok(rooms<RoomsResults['list']>({ op: 'list', user: 'bob' }), 'list')).rooms.map((r) => [r.room, r.visibility, r.role]), [['secret', 'private', 'member']]);
  // Being added needs no invite.
  await ok(ann.apply('add', 'secret', 'dan'), 'add');
  assert.equal(await roleOf('secret', 'dan', 'ann'), 'member');
});

test('roles: members cannot edit, admins manage members, only the owner manages admins and transfers; the owner leaves only after transferring', async () => {
  await ok(rooms({ op: 'create', room: 'club', user: 'ann' }), 'create');
  for (const user of ['bob', 'carol', 'dave']) await ok(rooms({ op: 'join', room: 'club', user }), `${user} joins`);
  const [ann, bob, carol] = [sessionOf('ann'), sessionOf('bob'), sessionOf('carol')];
  await refused(bob.acquire('club', 'member:carol'), 'forbidden', 'a member acquiring a lease');
  await refused(bob.acquire('club', 'settings'), 'forbidden', 'a member acquiring the settings lease');
  assert.deepEqual(await ok(ann.apply('promote', 'club', 'bob'), 'promote'), { room: 'club', user: 'bob', state: 'member', role: 'admin' });
  await ok(bob.apply('promote', 'club', 'carol'), 'an admin promotes a member');
  await refused(bob.apply('remove', 'club', 'carol'), 'forbidden', 'an admin removing an admin');
  await refused(bob.apply('demote', 'club', 'carol'), 'forbidden', 'an admin demoting');
  await refused(bob.apply('remove', 'club', 'ann'), 'forbidden', 'removing the owner');
  await refused(bob.apply('ban', 'club', 'ann'), 'forbidden', 'banning the owner');
  await refused(bob.apply('transfer', 'club', 'bob'), 'forbidden', 'an admin transferring');
  await refused(carol.apply('remove', 'club', 'carol'), 'forbidden', 'removing oneself');
  await ok(ann.apply('demote', 'club', 'carol'), 'the owner demotes');
  assert.equal(await roleOf('club', 'carol', 'ann'), 'member');
  await refused(carol.acquire('club', 'member:dave'), 'forbidden', 'a demoted admin acquiring');

  await refused(rooms({ op: 'leave', room: 'club', user: 'ann' }), 'owner_must_transfer', 'the owner leaving');
  await refused(ann.apply('transfer', 'club', 'zed'), 'not_member', 'transfer to a non-member');
  assert.deepEqual(await ok(ann.apply('transfer', 'club', 'bob'), 'transfer'), { room: 'club', user: 'bob', state: 'member', role: 'owner' });
  const after = await info('club', 'ann');
  assert.equal(after.owner, 'bob');
  assert.equal(after.role, 'admin', 'the old owner stays as an admin');
  await ok(rooms({ op: 'leave', room: 'club', user: 'ann' }), 'the old owner leaves');
  await refused(admin({ op: 'info', room: 'club', actor: 'ann' }), 'not_member', 'room info for a former member');
});

test('removed members read nothing and can rejoin a public room; banned users cannot rejoin, be added or invited until unbanned', async () => {
  await ok(rooms({ op: 'create', room: 'pub', user: 'ann' }), 'create');
  const js = jetstream(nc);
  await enqueue(js, chat('pub', 1));
  for (const user of ['eve', 'mal']) await ok(rooms({ op: 'join', room: 'pub', user }), `${user} joins`);
  await eventually(async () => {
    const r = await history('pub', 'eve');
    return r.ok && r.result.messages.length === 1;
  }, 'eve reads the room');
  const ann = sessionOf('ann');
  await ok(ann.apply('remove', 'pub', 'eve'), 'remove');
  await refused(history('pub', 'eve'), 'not_member', 'history after removal');
  await refused(history('pub', 'eve', { after: 0 }), 'not_member', 'history after removal, forward');
  await ok(rooms({ op: 'join', room: 'pub', user: 'eve' }), 'a removed member may rejoin a public room');

  await ok(ann.apply('ban', 'pub', 'mal'), 'ban');
  await refused(history('pub', 'mal'), 'not_member', 'history after a ban');
  await refused(rooms({ op: 'join', room: 'pub', user: 'mal' }), 'banned', 'rejoin after a ban');
  await refused(ann.apply('add', 'pub', 'mal'), 'banned', 'adding a banned user');
  await refused(ann.apply('invite', 'pub', 'mal'), 'banned', 'inviting a banned user');
  assert.deepEqual((await info('pub', 'ann')).bans, ['mal']);
  await ok(ann.apply('unban', 'pub', 'mal'), 'unban');
  await ok(rooms({ op: 'join', room: 'pub', user: 'mal' }), 'join after unban');
});

test('since_join: a new member reads only messages after their join, in history and through join; earlier members keep theirs', async () => {
  await ok(rooms({ op: 'create', room: 'fresh', user: 'ann', history: 'since_join' }), 'create');
  const js = jetstream(nc);
  const early = [await enqueue(js, chat('fresh', 1)), await enqueue(js, chat('fresh', 2))];
  const joined = await ok(rooms<RoomsResults['join']>({ op: 'join', room: 'fresh', user: 'bob' }), 'join');
  assert.equal(joined.readFrom, early[1], 'readFrom is the head at the join');
  const late = await enqueue(js, chat('fresh', 3));
  await eventually(async () => {
    const r = await history('fresh', 'bob');
    return r.ok && r.result.messages.length === 1;
  }, 'the new message readable');
  const newest = await ok(history('fresh', 'bob'), 'history');
  assert.deepEqual(newest.messages.map((m) => m.pos), [late]);
  assert.equal(newest.messages[0]!.prev, joined.readFrom, 'the chain starts at readFrom');
  assert.equal(newest.hasMore, false);
  assert.deepEqual((await ok(history('fresh', 'bob', { after: 0 }), 'forward from 0')).messages.map((m) => m.pos), [late]);
  assert.deepEqual((await ok(history('fresh', 'bob', { before: late }), 'before')).messages, []);
  assert.deepEqual((await ok(history('fresh', 'ann'), 'the creator reads all')).messages.map((m) => m.pos), [...early, late]);
});

test('edit leases: one session holds each entry; the same user\'s second session and other admins are refused with the holder; release frees it at once', async () => {
  await ok(rooms({ op: 'create', room: 'leased', user: 'ann' }), 'create');
  await ok(rooms({ op: 'join', room: 'leased', user: 'bob' }), 'join');
  await ok(sessionOf('ann').apply('promote', 'leased', 'bob'), 'promote bob');
  await ok(rooms({ op: 'join', room: 'leased', user: 'carl' }), 'join');
  const first = sessionOf('ann', 'ann-tab-1');
  const second = sessionOf('ann', 'ann-tab-2');
  const bob = sessionOf('bob');
  const lease = await first.lease('leased', 'settings');
  assert.equal(lease.holder, 'ann');
  const held = await refused(second.acquire('leased', 'settings'), 'lease_held', 'the same user in another session');
  assert.equal(held.holder, 'ann');
  assert.equal((await refused(bob.acquire('leased', 'settings'), 'lease_held', 'another admin')).holder, 'ann');
  // A second session may not use the holder's token either.
  assert.equal(
    (await refused(admin({ op: 'settings', room: 'leased', actor: 'ann', session: 'ann-tab-2', fence: lease.fence, settings: { topic: 'x' } }), 'lease_held', 'a write with another session')).holder,
    'ann',
  );
  assert.deepEqual((await info('leased', 'bob')).leases.map((l) => [l.target, l.holder]), [['settings', 'ann']]);
  // Other entries are free: bob edits carl meanwhile.
  await ok(bob.apply('promote', 'leased', 'carl'), 'another entry under its own lease');
  await ok(admin({ op: 'lease_release', room: 'leased', actor: 'ann', session: 'ann-tab-1', target: 'settings', fence: lease.fence }), 'release');
  const taken = await bob.lease('leased', 'settings');
  assert.ok(taken.fence > lease.fence, 'fencing tokens increase');
  const written = await ok(admin<{ settings: unknown }>({ op: 'settings', room: 'leased', actor: 'bob', session: 'bob-1', fence: taken.fence, settings: { topic: 'hello', visibility: 'private', name: 'Leased room' } }), 'settings');
  assert.deepEqual(written.settings, { name: 'Leased room', topic: 'hello', visibility: 'private', history: 'all' });
  await ok(admin({ op: 'release_session', session: 'bob-1' }), 'a closed connection releases its leases');
  await first.lease('leased', 'settings');
});

test('edit leases: expiry, takeover after expiry, renew, and fencing: the old holder\'s writes are refused with stale_fence, a lapsed lease with lease_expired', async () => {
  await ok(rooms({ op: 'create', room: 'fenced', user: 'ann' }), 'create');
  for (const user of ['bob', 'x1']) await ok(rooms({ op: 'join', room: 'fenced', user }), 'join');
  await ok(sessionOf('ann').apply('promote', 'fenced', 'bob'), 'promote bob');
  const ann = sessionOf('ann');
  const bob = sessionOf('bob');
  const old = await ann.lease('fenced', 'member:x1');
  const renewed = await ok(admin<EditLease>({ op: 'lease_renew', room: 'fenced', actor: 'ann', session: 'ann-1', target: 'member:x1', fence: old.fence }), 'renew');
  assert.ok(renewed.expiresAt >= old.expiresAt);
  await refused(bob.acquire('fenced', 'member:x1'), 'lease_held', 'takeover before expiry');
  // Takeover as soon as it expires (no sleep: retry until the service says it is free).
  let taken: EditLease | undefined;
  await eventually(async () => {
    const r = await bob.acquire('fenced', 'member:x1');
    if (r.ok) taken = r.result;
    return r.ok;
  }, 'the lease to expire', leaseMs * 5);
  assert.ok(taken!.fence > old.fence);
  assert.equal((await refused(ann.write('promote', 'fenced', 'x1', old.fence), 'stale_fence', 'the old holder writing')).holder, 'bob');
  await refused(admin({ op: 'lease_renew', room: 'fenced', actor: 'ann', session: 'ann-1', target: 'member:x1', fence: old.fence }), 'stale_fence', 'the old holder renewing');
  await ok(bob.write('promote', 'fenced', 'x1', taken!.fence), 'the new holder writes');
  // A lease that lapsed with nobody taking it over.
  const lapsing = await ann.lease('fenced', 'settings');
  await eventually(async () => !(await info('fenced', 'ann')).leases.some((l) => l.target === 'settings'), 'the settings lease to lapse', leaseMs * 5);
  await refused(admin({ op: 'settings', room: 'fenced', actor: 'ann', session: 'ann-1', fence: lapsing.fence, settings: { topic: 'late' } }), 'lease_expired', 'a write after expiry');
});

test('fencing in storage: a membership written under a newer token refuses a write with an older one', async () => {
  const store = new MemberStore(collectionsOf(mongo.db('rules')));
  const room = await store.room('fenced');
  const { doc } = await store.standing(room, 'x1');
  assert.ok(doc && doc.fence > 0);
  await assert.rejects(store.compareAndSet('fenced', 'x1', doc, { role: 'member' }, doc.fence - 1), (e: unknown) => e instanceof RpcError && e.code === 'stale_fence');
  assert.equal(await store.compareAndSet('fenced', 'x1', { ...doc, role: 'member' }, { role: 'admin' }, doc.fence), false, 'a stale observation does not write');
});

test('race: two admins on two replicas, one removes X while the other promotes Y, 40 times: both take effect every time', async () => {
  await ok(rooms({ op: 'create', room: 'race', user: 'owner' }), 'create');
  for (const user of ['adm1', 'adm2']) {
    await ok(rooms({ op: 'join', room: 'race', user }), 'join');
    await ok(sessionOf('owner').apply('promote', 'race', user), 'promote');
  }
  const [one, two] = [sessionOf('adm1'), sessionOf('adm2')];
  const before = replicas.map((r) => r.nc.stats().inMsgs);
  for (let i = 0; i < 40; i++) {
    const [x, y] = [`x${i}`, `y${i}`];
    await Promise.all([ok(rooms({ op: 'join', room: 'race', user: x }), 'join x'), ok(rooms({ op: 'join', room: 'race', user: y }), 'join y')]);
    const [removed, promoted] = await Promise.all([one.apply('remove', 'race', x), two.apply('promote', 'race', y)]);
    assert.ok(removed.ok && promoted.ok, `iteration ${i}: ${JSON.stringify([removed, promoted])}`);
    const now = await info('race', 'owner');
    assert.equal(now.members.find((m) => m.user === x), undefined, `iteration ${i}: ${x} removed`);
    assert.equal(now.members.find((m) => m.user === y)?.role, 'admin', `iteration ${i}: ${y} promoted`);
  }
  const served = replicas.map((r, i) => r.nc.stats().inMsgs - before[i]!);
  assert.ok(served.every((n) => n > 20), `both replicas served requests: ${served}`);
});

test('race on one entry: two admins acquiring member:Z at once, exactly one gets the lease', async () => {
  await ok(rooms({ op: 'join', room: 'race', user: 'z' }), 'join z');
  for (let i = 0; i < 10; i++) {
    const [a, b] = await Promise.all([sessionOf('adm1', `a${i}`).acquire('race', 'member:z'), sessionOf('adm2', `b${i}`).acquire('race', 'member:z')]);
    assert.equal([a, b].filter((r) => r.ok).length, 1, `round ${i}: ${JSON.stringify([a, b])}`);
    const winner = (a.ok ? a : b) as RpcReply<EditLease> & { ok: true };
    const loser = (a.ok ? b : a) as RpcReply<unknown> & { ok: false };
    assert.equal(loser.code, 'lease_held');
    assert.equal(loser.holder, winner.result.holder);
    await ok(admin({ op: 'lease_release', room: 'race', actor: winner.result.holder, session: a.ok ? `a${i}` : `b${i}`, target: 'member:z', fence: winner.result.fence }), 'release');
  }
});
