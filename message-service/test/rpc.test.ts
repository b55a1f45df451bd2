import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { subjects } from '@chorus/shared/bus/names';
import type { HistoryResult, RoomsResults, RpcReply } from '@chorus/shared/bus/payloads';
import { freePort } from '@chorus/local/servers/free-port';
import { startMessageService, type MessageService } from '../src/service.js';
import type { MessageDoc } from '../src/collections.js';
import { startBackends, type Backends } from './support/backends.js';
import { capturedLogger } from './support/captured-logger.js';
import { eventually } from './support/messages.js';

let backends: Backends;
let service: MessageService;
let nc: NatsConnection;
let mongo: MongoClient;

before(async () => {
  backends = await startBackends();
  service = await startMessageService({
    natsUrl: backends.nats.url,
    mongoUri: backends.mongo.uri,
    mongoDb: 'rpc',
    logger: capturedLogger().log,
    statsIntervalMs: 0,
    healthPort: 0,
  });
  nc = await connect({ servers: backends.nats.url });
  mongo = await new MongoClient(backends.mongo.uri).connect();
  // 25 stored messages in `library`, seq 1..25, written directly: history reads what is stored.
  const docs: MessageDoc[] = Array.from({ length: 25 }, (_, i) => ({
    _id: `lib-${i + 1}`,
    room: 'library',
    seq: i + 1,
    sender: 'ann',
    text: `page text ${i + 1}`,
    ts: 1_700_000_000_000 + i,
    clientMsgId: `c${i + 1}`,
    storedAt: new Date(),
  }));
  await mongo.db('rpc').collection<MessageDoc>('messages').insertMany(docs);
});

after(async () => {
  await service?.close();
  await nc?.close();
  await mongo?.close();
  await backends?.stop();
});

async function rpc<T>(subject: string, body: unknown): Promise<RpcReply<T>> {
  const reply = await nc.request(subject, typeof body === 'string' ? body : JSON.stringify(body), { timeout: 5_000 });
  return reply.json<RpcReply<T>>();
}
async function history(body: unknown): Promise<HistoryResult> {
  const reply = await rpc<HistoryResult>(subjects.historyRpc, body);
  assert.ok(reply.ok, `history failed: ${JSON.stringify(reply)}`);
  return reply.result;
}
const seqs = (r: HistoryResult) => r.messages.map((m) => m.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test('history without a cursor returns the newest page, ascending', async () => {
  const page = await history({ room: 'library', limit: 10 });
  assert.deepEqual(seqs(page), range(16, 25));
  assert.equal(page.hasMore, true);
  assert.deepEqual(page.messages[0], { room: 'library', seq: 16, id: 'lib-16', sender: 'ann', text: 'page text 16', ts: 1_700_000_000_015 });
});

test('history pages backward with before until hasMore is false', async () => {
  const pages: number[][] = [];
  let before: number | undefined;
  for (let i = 0; i < 5; i++) {
    const page = await history({ room: 'library', limit: 10, ...(before !== undefined && { before }) });
    pages.push(seqs(page));
    if (!page.hasMore) break;
    before = page.messages[0]!.seq;
  }
  assert.deepEqual(pages, [range(16, 25), range(6, 15), range(1, 5)]);
});

test('history pages forward with after (oldest first) until hasMore is false', async () => {
  const first = await history({ room: 'library', after: 0, limit: 10 });
  assert.deepEqual(seqs(first), range(1, 10));
  assert.equal(first.hasMore, true);
  const last = await history({ room: 'library', after: 20, limit: 10 });
  assert.deepEqual(seqs(last), range(21, 25));
  assert.equal(last.hasMore, false);
  const exact = await history({ room: 'library', after: 15, limit: 10 });
  assert.deepEqual(seqs(exact), range(16, 25));
  assert.equal(exact.hasMore, false, 'nothing after the page that ends at the head');
});

test('history of an empty room is empty; a bad request is invalid_frame', async () => {
  assert.deepEqual(await history({ room: 'nothing-here', limit: 10 }), { messages: [], hasMore: false });
  const bad = await rpc(subjects.historyRpc, { room: 'library', limit: 0 });
  assert.equal(bad.ok, false);
  assert.equal(!bad.ok && bad.code, 'invalid_frame');
  const notJson = await rpc(subjects.historyRpc, '{oops');
  assert.equal(!notJson.ok && notJson.code, 'invalid_frame');
});

test('rooms: create, join, members, list, head, leave, with their error codes', async () => {
  const membershipChanges: string[] = [];
  const sub = nc.subscribe(subjects.membershipAll, { callback: (_, msg) => void membershipChanges.push(msg.subject) });
  await nc.flush();
  try {
    const created = await rpc<RoomsResults['create']>(subjects.roomsRpc, { op: 'create', room: 'library', user: 'ann' });
    assert.deepEqual(created, { ok: true, result: { room: 'library', head: 25, created: true } });
    const again = await rpc(subjects.roomsRpc, { op: 'create', room: 'library', user: 'bob' });
    assert.equal(!again.ok && again.code, 'room_exists');

    const joined = await rpc<RoomsResults['join']>(subjects.roomsRpc, { op: 'join', room: 'library', user: 'bob' });
    assert.deepEqual(joined, { ok: true, result: { room: 'library', head: 25, created: false } });
    const joinedTwice = await rpc(subjects.roomsRpc, { op: 'join', room: 'library', user: 'bob' });
    assert.equal(joinedTwice.ok, true, 'join is idempotent');
    const missing = await rpc(subjects.roomsRpc, { op: 'join', room: 'no-such-room', user: 'bob' });
    assert.equal(!missing.ok && missing.code, 'room_not_found');

    const members = await rpc<RoomsResults['members']>(subjects.roomsRpc, { op: 'members', room: 'library' });
    assert.deepEqual(members, { ok: true, result: { room: 'library', members: ['ann', 'bob'] } });
    const noMembers = await rpc(subjects.roomsRpc, { op: 'members', room: 'no-such-room' });
    assert.equal(!noMembers.ok && noMembers.code, 'room_not_found');

    await rpc(subjects.roomsRpc, { op: 'create', room: 'empty', user: 'bob' });
    const list = await rpc<RoomsResults['list']>(subjects.roomsRpc, { op: 'list', user: 'bob' });
    assert.deepEqual(list, { ok: true, result: { rooms: [{ room: 'empty', head: 0 }, { room: 'library', head: 25 }] } });
    const head = await rpc<RoomsResults['head']>(subjects.roomsRpc, { op: 'head', room: 'library' });
    assert.deepEqual(head, { ok: true, result: { room: 'library', head: 25 } });

    const left = await rpc<RoomsResults['leave']>(subjects.roomsRpc, { op: 'leave', room: 'library', user: 'bob' });
    assert.deepEqual(left, { ok: true, result: { room: 'library' } });
    const leftTwice = await rpc(subjects.roomsRpc, { op: 'leave', room: 'library', user: 'bob' });
    assert.equal(!leftTwice.ok && leftTwice.code, 'not_member');
    const leaveMissing = await rpc(subjects.roomsRpc, { op: 'leave', room: 'no-such-room', user: 'bob' });
    assert.equal(!leaveMissing.ok && leaveMissing.code, 'room_not_found');
    const after = await rpc<RoomsResults['members']>(subjects.roomsRpc, { op: 'members', room: 'library' });
    assert.deepEqual(after.ok && after.result.members, ['ann']);

    const badOp = await rpc(subjects.roomsRpc, { op: 'destroy', room: 'library' });
    assert.equal(!badOp.ok && badOp.code, 'invalid_frame');

    // create, join, join (again), create empty, leave: each announced on chorus.membership.<room>.
    await eventually(() => membershipChanges.length >= 5, 'membership announcements');
    assert.deepEqual(membershipChanges, [
      'chorus.membership.library',
      'chorus.membership.library',
      'chorus.membership.library',
      'chorus.membership.empty',
      'chorus.membership.library',
    ]);
  } finally {
    sub.unsubscribe();
  }
});

test('the health server answers /healthz and /readyz', async () => {
  // healthPort 0 means off: nothing bound.
  assert.equal(service.healthPort, undefined);
  const withHealth = await startMessageService({
    natsUrl: backends.nats.url,
    mongoUri: backends.mongo.uri,
    mongoDb: 'rpc',
    logger: capturedLogger().log,
    statsIntervalMs: 0,
    healthPort: await freePort(),
  });
  try {
    const port = withHealth.healthPort!;
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
    assert.equal(withHealth.ready(), true);
  } finally {
    await withHealth.close();
  }
  assert.equal(withHealth.ready(), false);
});

