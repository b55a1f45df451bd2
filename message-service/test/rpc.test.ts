import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { connect, createInbox, headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { consumerName, deadlineHeader, streamName, subjects } from '@chorus/shared/bus/names';
import { ensureMessageStream } from '@chorus/shared/bus/jetstream-setup';
import type { HistoryResult, LookupResult, RoomsResults, RpcReply, StoredMessage } from '@chorus/shared/bus/payloads';
import type { ChatMessage } from '@chorus/shared/protocol/server-frames';
import { freePort } from '@chorus/local/servers/free-port';
import { startMessageService, type MessageService } from '../src/service.js';
import type { MessageDoc } from '../src/storage/collections.js';
import type { WriterProgress } from '../src/pipeline/writer-progress.js';
import { LookupHandler } from '../src/rpc/lookup-handler.js';
import { QueryGate } from '../src/rpc/query-gate.js';
import { RpcError } from '../src/rpc/rpc-error.js';
import { startBackends, type Backends } from './support/backends.js';
import { capturedLogger } from './support/captured-logger.js';
import { chat, enqueueInOrder, eventually, queueDepth } from './support/messages.js';

/*
 * The layout every history test reads, built in before():
 *   positions below the stream's first sequence: only in MongoDB (purged from the stream),
 *   from there up to the writer's floor: in both,
 *   above the floor: only in the stream (a "stuck replica", this test, holds them unacked).
 * `seam` has messages 1..14 in the first region, 15..30 in the second, 31..60 in the third,
 * interleaved with other rooms so positions are not consecutive. `big` has 50 messages of 4,000
 * control characters (6 bytes each in JSON): a page of them is larger than NATS's max_payload.
 */
const ackWaitMs = 60_000; // the held messages must not come back during this file
let backends: Backends;
let service: MessageService;
let nc: NatsConnection;
let holder: NatsConnection;
let mongo: MongoClient;
const held: JsMsg[] = [];
const posOf = new Map<string, number>();
const messageOf = new Map<string, StoredMessage>();
let firstSeq: number;
let floor: number;

const bigText = '\u0001'.repeat(4_000);
const seamIds = Array.from({ length: 60 }, (_, i) => `seam-${i + 1}`);
const bigIds = Array.from({ length: 50 }, (_, i) => `big-${i + 1}`);

function startService(): Promise<MessageService> {
  return startMessageService({
    natsUrl: backends.nats.url,
    mongoUri: backends.mongo.uri,
    mongoDb: 'rpc',
    logger: capturedLogger().log,
    statsIntervalMs: 0,
    metricsPort: 0,
    stream: { ackWaitMs },
  });
}

async function publish(messages: StoredMessage[]): Promise<void> {
  const positions = await enqueueInOrder(jetstream(nc), messages);
  messages.forEach((m, i) => {
    posOf.set(m.id, positions[i]!);
    messageOf.set(m.id, m);
  });
}

function seamRun(from: number, to: number): StoredMessage[] {
  const run: StoredMessage[] = [];
  for (let n = from; n <= to; n++) {
    if (n % 3 === 0) run.push(chat('other', n));
    run.push({ ...chat('seam', n), ts: 1_700_000_000_000 + n });
  }
  return run;
}

before(async () => {
  backends = await startBackends();
  nc = await connect({ servers: backends.nats.url });
  mongo = await new MongoClient(backends.mongo.uri).connect();
  await ensureMessageStream(nc, { ackWaitMs });

  // Written by a first replica.
  const writer = await startService();
  const written = [chat('old', 1), chat('old', 2), chat('old', 3), ...seamRun(1, 30), ...bigIds.slice(0, 30).map((_, i) => chat('big', i + 1, bigText))];
  await publish(written);
  await eventually(async () => (await queueDepth(nc)) === 0, 'first part written');
  await writer.close();

  // Taken by a replica that is stuck: in the stream, not in MongoDB.
  const unwritten = [...seamRun(31, 60), ...bigIds.slice(30).map((_, i) => chat('big', 31 + i, bigText))];
  await publish(unwritten);
  holder = await connect({ servers: backends.nats.url });
  const fetched = await (await jetstream(holder).consumers.get(streamName, consumerName)).fetch({ max_messages: unwritten.length, expires: 5_000 });
  for await (const m of fetched) if (held.push(m) === unwritten.length) break;
  assert.equal(held.length, unwritten.length, 'the stuck replica holds the whole second part');

  // The oldest written part leaves the stream (as the trimmer does): below seam-15 only MongoDB has it.
  const jsm = await jetstreamManager(nc);
  await jsm.streams.purge(streamName, { seq: posOf.get('seam-15')! });
  firstSeq = (await jsm.streams.info(streamName)).state.first_seq;
  floor = (await jsm.consumers.info(streamName, consumerName)).ack_floor.stream_seq;

  service = await startService();
});

after(async () => {
  await service?.close();
  await holder?.close();
  await nc?.close();
  await mongo?.close();
  await backends?.stop();
});

async function rpc<T>(subject: string, body: unknown): Promise<RpcReply<T>> {
  const reply = await nc.request(subject, typeof body === 'string' ? body : JSON.stringify(body), { timeout: 5_000 });
  return reply.json<RpcReply<T>>();
}
async function history(body: Record<string, unknown>): Promise<HistoryResult> {
  const reply = await rpc<HistoryResult>(subjects.historyRpc, body);
  assert.ok(reply.ok, `history ${JSON.stringify(body)} failed: ${JSON.stringify(reply)}`);
  return reply.result;
}
const ids = (messages: readonly ChatMessage[]) => messages.map((m) => m.id);
const positionsOf = (list: readonly string[]) => list.map((id) => posOf.get(id)!);

/** Every message's prev is the pos of the one before it; the first one's is `first`. */
function assertChained(messages: readonly ChatMessage[], first: number, what: string): void {
  let prev = first;
  for (const m of messages) {
    assert.equal(m.prev, prev, `${what}: ${m.id} (pos ${m.pos}) has prev ${m.prev}, expected ${prev}`);
    assert.ok(m.pos > m.prev, `${what}: pos increases`);
    prev = m.pos;
  }
}

/** Pages forward from `after: 0` until hasMore is false. */
async function pageForward(room: string, limit: number): Promise<{ messages: ChatMessage[]; pages: number }> {
  const messages: ChatMessage[] = [];
  let after = 0;
  for (let pages = 1; pages <= 200; pages++) {
    const page = await history({ room, after, limit });
    assert.ok(page.messages.length > 0 || !page.hasMore, 'a page with hasMore is not empty');
    assert.ok(page.messages.length <= limit);
    assertChained(page.messages, after, `forward page after ${after}`);
    messages.push(...page.messages);
    if (!page.hasMore) return { messages, pages };
    after = page.messages.at(-1)!.pos;
  }
  throw new Error('forward paging did not end');
}

/** Pages backward from the newest message until hasMore is false; returns them ascending. */
async function pageBackward(room: string, limit: number): Promise<{ messages: ChatMessage[]; pages: number }> {
  const pages: ChatMessage[][] = [];
  let before: number | undefined;
  for (let n = 1; n <= 200; n++) {
    const page = await history({ room, limit, ...(before !== undefined && { before }) });
    assert.ok(page.messages.length <= limit);
    if (page.messages.length > 0) assertChained(page.messages.slice(1), page.messages[0]!.pos, `backward page before ${before}`);
    pages.unshift(page.messages);
    if (!page.hasMore) {
      const messages = pages.flat();
      // Across pages too: each page's first prev is the last message of the page older than it.
      assertChained(messages, 0, 'backward pages joined');
      return { messages, pages: n };
    }
    assert.ok(page.messages.length > 0, 'a page with hasMore is not empty');
    before = page.messages[0]!.pos;
  }
  throw new Error('backward paging did not end');
}

test('the layout is as described: purged head, written middle, unwritten tail', async () => {
  assert.equal(firstSeq, posOf.get('seam-15'));
  assert.equal(floor, posOf.get('big-30'), 'the writer floor is the last written message');
  const docs = await mongo.db('rpc').collection<MessageDoc>('messages').find({ room: 'seam' }).sort({ pos: 1 }).toArray();
  assert.deepEqual(docs.map((d) => d._id), seamIds.slice(0, 30));
  assert.deepEqual(docs.map((d) => d.pos), positionsOf(seamIds.slice(0, 30)));
  assert.equal(await queueDepth(nc), held.length, 'the second part is delivered but unacked');
});

test('history forward with after pages across both seams with no gap, no repeat and prev chained', async () => {
  for (const limit of [7, 13, 60]) {
    const { messages, pages } = await pageForward('seam', limit);
    assert.deepEqual(ids(messages), seamIds, `limit ${limit}`);
    assert.deepEqual(messages.map((m) => m.pos), positionsOf(seamIds));
    assert.equal(pages, Math.ceil(60 / limit), `limit ${limit}: no empty last page`);
  }
  // One page stitched from MongoDB (11..30) and the stream (31..40).
  const stitched = await history({ room: 'seam', after: posOf.get('seam-10')!, limit: 30 });
  assert.deepEqual(ids(stitched.messages), seamIds.slice(10, 40));
  assert.equal(stitched.hasMore, true);
  assertChained(stitched.messages, posOf.get('seam-10')!, 'stitched page');
  const tail = await history({ room: 'seam', after: posOf.get('seam-50')!, limit: 10 });
  assert.deepEqual(ids(tail.messages), seamIds.slice(50));
  assert.equal(tail.hasMore, false, 'nothing after the page that ends at the head');
  assert.deepEqual(await history({ room: 'seam', after: posOf.get('seam-60')!, limit: 10 }), { messages: [], hasMore: false });
});

test('history backward with before pages across both seams with no gap, no repeat and prev chained', async () => {
  for (const limit of [7, 13, 60]) {
    const { messages } = await pageBackward('seam', limit);
    assert.deepEqual(ids(messages), seamIds, `limit ${limit}`);
  }
  const newest = await history({ room: 'seam', limit: 10 });
  assert.deepEqual(ids(newest.messages), seamIds.slice(50));
  assert.equal(newest.hasMore, true);
  assert.equal(newest.messages[0]!.prev, posOf.get('seam-50'));
  // One page stitched from MongoDB (25..30) and the stream (31..34).
  const stitched = await history({ room: 'seam', before: posOf.get('seam-35')!, limit: 10 });
  assert.deepEqual(ids(stitched.messages), seamIds.slice(24, 34));
  assert.equal(stitched.hasMore, true);
  assertChained(stitched.messages, posOf.get('seam-24')!, 'stitched page');
  const oldest = await history({ room: 'seam', before: posOf.get('seam-4')!, limit: 10 });
  assert.deepEqual(ids(oldest.messages), seamIds.slice(0, 3));
  assert.equal(oldest.hasMore, false);
  assert.equal(oldest.messages[0]!.prev, 0, 'the room\'s first message');
});

test('history messages carry the stored fields, the same from MongoDB and from the stream', async () => {
  const page = await history({ room: 'seam', after: posOf.get('seam-29')!, limit: 2 });
  const expected = (id: string, prev: number): ChatMessage => {
    const m = messageOf.get(id)!;
    return { room: 'seam', pos: posOf.get(id)!, prev, id, sender: m.sender, text: m.text, ts: m.ts };
  };
  assert.deepEqual(page.messages, [expected('seam-30', posOf.get('seam-29')!), expected('seam-31', posOf.get('seam-30')!)]);
  const fromMongo = await history({ room: 'seam', after: 0, limit: 1 });
  assert.deepEqual(fromMongo.messages, [expected('seam-1', 0)]);
});

test('a page larger than NATS max_payload (4,000 control characters each) is cut by bytes with hasMore, and the service keeps serving', async () => {
  const maxPayload = nc.info!.max_payload;
  const forward = await history({ room: 'big', after: 0, limit: 50 });
  assert.equal(forward.hasMore, true);
  assert.ok(forward.messages.length > 0 && forward.messages.length < 50, `cut to ${forward.messages.length}`);
  assert.ok(Buffer.byteLength(JSON.stringify(forward)) < maxPayload);
  assert.deepEqual(ids(forward.messages), bigIds.slice(0, forward.messages.length), 'a forward page keeps its oldest');
  assert.equal(forward.messages[0]!.text, bigText);

  const backward = await history({ room: 'big', limit: 50 });
  assert.equal(backward.hasMore, true);
  assert.ok(backward.messages.length > 0 && backward.messages.length < 50);
  assert.deepEqual(ids(backward.messages), bigIds.slice(50 - backward.messages.length), 'a backward page keeps its newest');
  assert.equal(backward.messages[0]!.prev, posOf.get(bigIds[50 - backward.messages.length - 1]!), 'prev names the message cut off');

  // Read from the stream alone (after >= its first sequence): cut as well.
  const fromStream = await history({ room: 'big', after: posOf.get('big-1')!, limit: 49 });
  assert.equal(fromStream.hasMore, true);
  assert.deepEqual(ids(fromStream.messages), bigIds.slice(1, 1 + fromStream.messages.length));

  assert.deepEqual(ids((await pageForward('big', 50)).messages), bigIds);
  assert.deepEqual(ids((await pageBackward('big', 50)).messages), bigIds);
  assert.equal(service.ready(), true);
  assert.equal((await rpc<RoomsResults['head']>(subjects.roomsRpc, { op: 'head', room: 'big' })).ok, true, 'still answering');
});

test('history of an empty room is empty; a bad request is invalid_frame', async () => {
  assert.deepEqual(await history({ room: 'nothing-here', limit: 10 }), { messages: [], hasMore: false });
  assert.deepEqual(await history({ room: 'nothing-here', after: 0, limit: 10 }), { messages: [], hasMore: false });
  for (const bad of [{ room: 'seam', limit: 0 }, { room: 'seam', after: 1, before: 5, limit: 5 }, { room: 'no/slash', limit: 5 }, { room: 'seam', after: -1, limit: 5 }]) {
    const reply = await rpc(subjects.historyRpc, bad);
    assert.equal(!reply.ok && reply.code, 'invalid_frame', JSON.stringify(bad));
  }
  const notJson = await rpc(subjects.historyRpc, '{oops');
  assert.equal(!notJson.ok && notJson.code, 'invalid_frame');
});

test('lookup answers the stored position of a message id, or null', async () => {
  const lookup = (body: unknown) => rpc<LookupResult>(subjects.lookupRpc, body);
  assert.deepEqual(await lookup({ room: 'seam', id: 'seam-5' }), { ok: true, result: { pos: posOf.get('seam-5') } });
  assert.deepEqual(await lookup({ room: 'seam', id: 'seam-20' }), { ok: true, result: { pos: posOf.get('seam-20') } });
  assert.deepEqual(await lookup({ room: 'seam', id: 'never-sent' }), { ok: true, result: { pos: null } });
  // Not written yet: null, which is safe while the writer is inside JetStream's duplicate window
  // (a resend with the same Nats-Msg-Id is answered with the original's position).
  assert.deepEqual(await lookup({ room: 'seam', id: 'seam-40' }), { ok: true, result: { pos: null } });
  const otherRoom = await lookup({ room: 'other', id: 'seam-5' });
  assert.equal(!otherRoom.ok && otherRoom.code, 'invalid_frame');
  const bad = await lookup({ room: 'seam' });
  assert.equal(!bad.ok && bad.code, 'invalid_frame');
});

test('lookup refuses "never stored" while the writer lags close to the duplicate window, and drops expired work', async () => {
  const collection = mongo.db('rpc').collection<MessageDoc>('messages');
  const lagging = { lag: async () => ({ floor: 0, unwritten: 10, oldestUnwrittenMs: 1_000 }) } as unknown as WriterProgress;
  // A 30 s window: with the 30 s safety margin, any lag is too much.
  const handler = new LookupHandler(collection, lagging, new QueryGate(2), 30_000);
  await assert.rejects(handler.handle({ room: 'seam', id: 'never-sent' }), (e: unknown) => e instanceof RpcError && e.code === 'unavailable');
  assert.deepEqual(await handler.handle({ room: 'seam', id: 'seam-5' }), { pos: posOf.get('seam-5') }, 'a stored id is still answered');
  const relaxed = new LookupHandler(collection, lagging, new QueryGate(2), 120_000);
  assert.deepEqual(await relaxed.handle({ room: 'seam', id: 'never-sent' }), { pos: null });
  let lagRead = false;
  const watched = { lag: async () => ((lagRead = true), { floor: 0, unwritten: 0, oldestUnwrittenMs: 0 }) } as unknown as WriterProgress;
  await assert.rejects(new LookupHandler(collection, watched, new QueryGate(2)).handle({ room: 'seam', id: 'x' }, Date.now() - 1), /deadline/);
  assert.equal(lagRead, false, 'expired work does not run');
});

test(
  'concurrent look-ups of one id for two rooms each get their own answer',
  async () => {
    const collection = mongo.db('rpc').collection<MessageDoc>('messages');
    const idle = { lag: async () => ({ floor: 0, unwritten: 0, oldestUnwrittenMs: 0 }) } as unknown as WriterProgress;
    const handler = new LookupHandler(collection, idle, new QueryGate(8));
    const [own, other] = await Promise.allSettled([handler.handle({ room: 'seam', id: 'seam-5' }), handler.handle({ room: 'other', id: 'seam-5' })]);
    assert.deepEqual(own.status === 'fulfilled' && own.value, { pos: posOf.get('seam-5') });
    assert.equal(other.status, 'rejected', `room other got ${JSON.stringify(other.status === 'fulfilled' && other.value)}`);
  },
);

test('rooms: create, join, members, list, head (from the stream, else MongoDB), leave, with their error codes', async () => {
  const membershipChanges: string[] = [];
  const sub = nc.subscribe(subjects.membershipAll, { callback: (_, msg) => void membershipChanges.push(`${msg.subject} ${msg.string()}`) });
  await nc.flush();
  try {
    const created = await rpc<RoomsResults['create']>(subjects.roomsRpc, { op: 'create', room: 'seam', user: 'ann' });
    assert.deepEqual(created, { ok: true, result: { room: 'seam', head: 0, created: true } });
    const again = await rpc(subjects.roomsRpc, { op: 'create', room: 'seam', user: 'bob' });
    assert.equal(!again.ok && again.code, 'room_exists');

    const joined = await rpc<RoomsResults['join']>(subjects.roomsRpc, { op: 'join', room: 'seam', user: 'bob' });
    assert.deepEqual(joined, { ok: true, result: { room: 'seam', head: posOf.get('seam-60'), created: false, readFrom: 0 } }, 'head of an unwritten tail, from the stream');
    const joinedTwice = await rpc(subjects.roomsRpc, { op: 'join', room: 'seam', user: 'bob' });
    assert.equal(joinedTwice.ok, true, 'join is idempotent');
    const missing = await rpc(subjects.roomsRpc, { op: 'join', room: 'no-such-room', user: 'bob' });
    assert.equal(!missing.ok && missing.code, 'room_not_found');

    const members = await rpc<RoomsResults['members']>(subjects.roomsRpc, { op: 'members', room: 'seam' });
    assert.deepEqual(members, { ok: true, result: { room: 'seam', members: ['ann', 'bob'] } });
    const noMembers = await rpc(subjects.roomsRpc, { op: 'members', room: 'no-such-room' });
    assert.equal(!noMembers.ok && noMembers.code, 'room_not_found');

    await rpc(subjects.roomsRpc, { op: 'create', room: 'empty', user: 'bob' });
    await rpc(subjects.roomsRpc, { op: 'create', room: 'old', user: 'bob' });
    const list = await rpc<RoomsResults['list']>(subjects.roomsRpc, { op: 'list', user: 'bob' });
    assert.deepEqual(list, {
      ok: true,
      result: {
        rooms: [
          { room: 'empty', head: 0, visibility: 'public', role: 'owner' },
          { room: 'old', head: posOf.get('old-3'), visibility: 'public', role: 'owner' },
          { room: 'seam', head: posOf.get('seam-60'), visibility: 'public', role: 'member' },
        ],
        invites: [],
      },
    });
    const oldHead = await rpc<RoomsResults['head']>(subjects.roomsRpc, { op: 'head', room: 'old' });
    assert.deepEqual(oldHead, { ok: true, result: { room: 'old', head: posOf.get('old-3') } }, 'purged from the stream: MongoDB\'s head');
    const head = await rpc<RoomsResults['head']>(subjects.roomsRpc, { op: 'head', room: 'seam' });
    assert.deepEqual(head, { ok: true, result: { room: 'seam', head: posOf.get('seam-60') } });
    const emptyHead = await rpc<RoomsResults['head']>(subjects.roomsRpc, { op: 'head', room: 'nothing-here' });
    assert.deepEqual(emptyHead, { ok: true, result: { room: 'nothing-here', head: 0 } });

    const left = await rpc<RoomsResults['leave']>(subjects.roomsRpc, { op: 'leave', room: 'seam', user: 'bob' });
    assert.deepEqual(left, { ok: true, result: { room: 'seam' } });
    const leftTwice = await rpc(subjects.roomsRpc, { op: 'leave', room: 'seam', user: 'bob' });
    assert.equal(!leftTwice.ok && leftTwice.code, 'not_member');
    const leaveMissing = await rpc(subjects.roomsRpc, { op: 'leave', room: 'no-such-room', user: 'bob' });
    assert.equal(!leaveMissing.ok && leaveMissing.code, 'room_not_found');
    const afterLeave = await rpc<RoomsResults['members']>(subjects.roomsRpc, { op: 'members', room: 'seam' });
    assert.deepEqual(afterLeave.ok && afterLeave.result.members, ['ann']);

    const badOp = await rpc(subjects.roomsRpc, { op: 'destroy', room: 'seam' });
    assert.equal(!badOp.ok && badOp.code, 'invalid_frame');

    // create, join, create empty, create old, leave: each announced on chorus.membership.<room>
    // with who and what; a second join changes nothing and is not announced.
    await eventually(() => membershipChanges.length >= 5, 'membership announcements');
    assert.deepEqual(membershipChanges, [
      'chorus.membership.seam {"user":"ann","change":"joined"}',
      'chorus.membership.seam {"user":"bob","change":"joined"}',
      'chorus.membership.empty {"user":"bob","change":"joined"}',
      'chorus.membership.old {"user":"bob","change":"joined"}',
      'chorus.membership.seam {"user":"bob","change":"left"}',
    ]);
  } finally {
    sub.unsubscribe();
  }
});

test('a request whose Chorus-Deadline has passed gets no work done and no reply; one within its deadline is served', async () => {
  const replies: Msg[] = [];
  const inbox = createInbox();
  const sub = nc.subscribe(inbox, { callback: (_, msg) => void replies.push(msg) });
  try {
    const expired = headers();
    expired.set(deadlineHeader, String(Date.now() - 1_000));
    nc.publish(subjects.roomsRpc, JSON.stringify({ op: 'create', room: 'late-room', user: 'ann' }), { reply: inbox, headers: expired });
    nc.publish(subjects.historyRpc, JSON.stringify({ room: 'seam', limit: 5 }), { reply: inbox, headers: expired });
    // Requests from one connection reach the service in order and its replies come back in order:
    // once this reply is here, the expired ones were handled (or dropped) before it.
    const inTime = headers();
    inTime.set(deadlineHeader, String(Date.now() + 10_000));
    const reply = await nc.request(subjects.roomsRpc, JSON.stringify({ op: 'create', room: 'late-room', user: 'bob' }), { timeout: 5_000, headers: inTime });
    assert.deepEqual(reply.json(), { ok: true, result: { room: 'late-room', head: 0, created: true } }, 'the expired create did not create the room');
    const members = await rpc<RoomsResults['members']>(subjects.roomsRpc, { op: 'members', room: 'late-room' });
    assert.deepEqual(members.ok && members.result.members, ['bob']);
    await nc.flush();
    assert.equal(replies.length, 0, 'no reply to an expired request');
  } finally {
    sub.unsubscribe();
  }
});

test('once the stuck messages are written, every page reads the same as before', async () => {
  const before = {
    forward: await pageForward('seam', 7),
    backward: await pageBackward('seam', 7),
    stitched: await history({ room: 'seam', after: posOf.get('seam-10')!, limit: 30 }),
    big: await history({ room: 'big', limit: 50 }),
  };
  for (const m of held) m.nak();
  await eventually(async () => (await queueDepth(nc)) === 0, 'the tail written and acked');
  const count = await mongo.db('rpc').collection<MessageDoc>('messages').countDocuments({ room: { $in: ['seam', 'big'] } });
  assert.equal(count, 110);
  // Now MongoDB has everything: pages stitched at the new floor (or, through the writer-progress
  // cache, still at the old one) must read exactly as before.
  const after = {
    forward: await pageForward('seam', 7),
    backward: await pageBackward('seam', 7),
    stitched: await history({ room: 'seam', after: posOf.get('seam-10')!, limit: 30 }),
    big: await history({ room: 'big', limit: 50 }),
  };
  assert.deepEqual(after, before);
  assert.deepEqual(await rpc<LookupResult>(subjects.lookupRpc, { room: 'seam', id: 'seam-40' }), { ok: true, result: { pos: posOf.get('seam-40') } });
});

test('the metrics port answers /healthz, /readyz and /metrics', async () => {
  // metricsPort 0 means off: nothing bound.
  assert.equal(service.metricsPort, undefined);
  const withHealth = await startMessageService({
    natsUrl: backends.nats.url,
    mongoUri: backends.mongo.uri,
    mongoDb: 'rpc',
    logger: capturedLogger().log,
    statsIntervalMs: 0,
    stream: { ackWaitMs },
    metricsPort: await freePort(),
  });
  try {
    const port = withHealth.metricsPort!;
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${port}/nope`)).status, 404);
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(metrics.status, 200);
    const text = await metrics.text();
    assert.match(text, /^chorus_message_service_processed_total \d+/m);
    assert.match(text, /^chorus_message_service_batches_total \d+/m);
    // The batching settings this replica applied (the defaults: nothing was written to the bucket).
    assert.match(text, new RegExp(`^chorus_message_service_batch_size ${withHealth.settings().batchSize}$`, 'm'));
    assert.match(text, new RegExp(`^chorus_message_service_flush_interval_ms ${withHealth.settings().flushIntervalMs}$`, 'm'));
    assert.match(text, /^process_cpu_seconds_total /m);
    assert.equal(withHealth.ready(), true);
  } finally {
    await withHealth.close();
  }
  assert.equal(withHealth.ready(), false);
});
