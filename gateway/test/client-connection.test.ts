import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { createLogger } from '@chorus/shared/logging/logger';
import type { ServerFrame } from '@chorus/shared/protocol/server-frames';
import { BackendError } from '../src/backend/message-service-client.js';
import { ClientConnection } from '../src/connection/client-connection.js';
import type { GatewayServices } from '../src/connection/gateway-services.js';
import { GatewayMetrics } from '../src/http/gateway-metrics.js';
import { MemoryRoomBroker } from '../src/ordering/memory-room-broker.js';
import { RoomHub } from '../src/ordering/room-hub.js';
import { RoomReader } from '../src/ordering/room-reader.js';
import { MemoryPresence } from '../src/presence/memory-presence.js';
import { MessagePublisher } from '../src/publish/message-publisher.js';
import { FrameLimits } from '../src/limits/frame-limiter.js';
import { defaultGatewayLimits } from '../src/limits/gateway-limits.js';

/** A WebSocket as ClientConnection uses it, recording what the gateway sends. */
class FakeSocket extends EventEmitter {
  readonly frames: ServerFrame[] = [];
  bufferedAmount = 0;
  closedWith: number | undefined;
  send(data: string): void {
    this.frames.push(JSON.parse(data) as ServerFrame);
  }
  close(code: number): void {
    this.closedWith = code;
    this.emit('close');
  }
  terminate(): void {
    this.emit('close');
  }
  frame(frame: Record<string, unknown>): void {
    this.emit('message', Buffer.from(JSON.stringify(frame)), false);
  }
  async reply(rid: number): Promise<ServerFrame> {
    for (;;) {
      const found = this.frames.find((f) => 'rid' in f && f.rid === rid);
      if (found) return found;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  messages(room: string) {
    return this.frames.filter((f): f is Extract<ServerFrame, { type: 'message' }> => f.type === 'message' && f.room === room);
  }
}

/** One gateway's services on in-memory engines: the broker, presence, membership and the message-service. */
function gatewayOn(broker: MemoryRoomBroker, options: { lookups?: Map<string, number>; maxRooms?: number; readFrom?: number; frameLimits?: FrameLimits } = {}) {
  const adminRequests: unknown[] = [];
  const members = new Map<string, Set<string>>([['lobby', new Set(['ann', 'bob'])]]);
  const log = createLogger('test');
  log.level = 'silent';
  const backend: GatewayServices['backend'] = {
    rooms: (async (request: { op: string; room: string; user: string }) => {
      if (request.op === 'join') {
        if (!members.has(request.room)) throw new BackendError('room_not_found', 'no such room');
        members.get(request.room)!.add(request.user);
        return { room: request.room, head: 0, created: false, readFrom: options.readFrom ?? 0 };
      }
      if (request.op === 'head') return { room: request.room, head: 0 };
      throw new Error(`unexpected ${request.op}`);
    }) as GatewayServices['backend']['rooms'],
    history: async () => ({ messages: [], hasMore: false }),
    roomAdmin: (async (request: { op: string; room: string; user?: string }) => {
      adminRequests.push(request);
      if (request.op === 'lease_acquire') throw new BackendError('lease_held', 'settings is being edited by zoe', { holder: 'zoe' });
      return { room: request.room, user: request.user, state: 'none' };
    }) as GatewayServices['backend']['roomAdmin'],
    lookup: async ({ id }) => ({ pos: options.lookups?.get(id) ?? null }),
  };
  const reader = new RoomReader(broker, async () => ({ messages: [], hasMore: false }));
  const hub = new RoomHub({ broker, reader, log, storedHead: async () => 0, auditMs: 60_000 });
  const services: GatewayServices = {
    gatewayId: 'gw-test',
    log,
    backend,
    membership: {
      isMember: async (room, user) => members.get(room)?.has(user) ?? false,
      created: async () => {},
      changed: async () => {},
    },
    publisher: new MessagePublisher(broker, backend, 1),
    hub,
    reader,
    presence: new MemoryPresence(),
    metrics: new GatewayMetrics(),
    auth: {
      verifier: { verify: async () => ({ ok: false, reason: 'no refresh in these tests' }) },
      revocations: { isRevoked: async () => false },
      clockToleranceSeconds: 0,
    },
    maxFrameBytes: 64 * 1024,
    maxBufferedBytes: 1024 * 1024,
    maxRoomsPerSocket: options.maxRooms ?? 10,
    frameLimits: options.frameLimits ?? new FrameLimits(defaultGatewayLimits),
  };
  const connections = new Map<FakeSocket, ClientConnection>();
  const connect = (user: string) => {
    const socket = new FakeSocket();
    connections.set(socket, new ClientConnection(socket as unknown as WebSocket, { user, expiresAt: Math.floor(Date.now() / 1000) + 3600 }, services));
    return socket;
  };
  return { connect, hub, adminRequests, connectionOf: (socket: FakeSocket) => connections.get(socket)! };
}

test('a send is acked with its stream position and reaches every member once, chained', async () => {
  const broker = new MemoryRoomBroker();
  const { connect, hub } = gatewayOn(broker);
  const ann = connect('ann');
  const bob = connect('bob');
  ann.frame({ type: 'join', rid: 1, room: 'lobby' });
  bob.frame({ type: 'join', rid: 1, room: 'lobby' });
  await Promise.all([ann.reply(1), bob.reply(1)]);
  for (let i = 0; i < 3; i++) ann.frame({ type: 'send', rid: 10 + i, room: 'lobby', clientMsgId: `c${i}`, text: `hi ${i}` });
  const acks = await Promise.all([10, 11, 12].map((rid) => ann.reply(rid)));
  assert.deepEqual(acks.map((a) => a.type === 'ack' && a.pos), [1, 2, 3]);
  assert.deepEqual(bob.messages('lobby').map((m) => [m.pos, m.prev, m.text]), [[1, 0, 'hi 0'], [2, 1, 'hi 1'], [3, 2, 'hi 2']]);
  assert.equal(ann.messages('lobby').length, 3, 'the sender receives its own messages');
  await hub.close();
});

test('a resume replays what the socket missed, from the position it holds', async () => {
  const broker = new MemoryRoomBroker();
  const { connect, hub } = gatewayOn(broker);
  for (let i = 1; i <= 5; i++) broker.append({ id: `m${i}`, room: 'lobby', sender: 'ann', text: `t${i}`, ts: 1, clientMsgId: `c${i}` });
  const bob = connect('bob');
  bob.frame({ type: 'join', rid: 1, room: 'lobby', after: 2 });
  const joined = await bob.reply(1);
  assert.equal(joined.type === 'joined' && joined.head, 2, 'joined names the position the socket starts from');
  while (bob.messages('lobby').length < 3) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(bob.messages('lobby').map((m) => [m.pos, m.prev]), [[3, 2], [4, 3], [5, 4]]);
  await hub.close();
});

test('a resend of a stored message is answered with its original position and stores nothing', async () => {
  const broker = new MemoryRoomBroker();
  const { messageIdFor } = await import('@chorus/shared/protocol/message-id');
  const { connect, hub } = gatewayOn(broker, { lookups: new Map([[messageIdFor('ann', 'old-1'), 42]]) });
  const ann = connect('ann');
  ann.frame({ type: 'send', rid: 1, room: 'lobby', clientMsgId: 'old-1', text: 'hello', resend: true });
  const ack = await ann.reply(1);
  assert.deepEqual(ack.type === 'ack' && [ack.pos, ack.duplicate], [42, true]);
  assert.equal(await broker.head('lobby'), 0, 'nothing was published');
  await hub.close();
});

test('errors come with their codes: not a member, no such room, the log unavailable, too many rooms', async () => {
  const broker = new MemoryRoomBroker();
  const { connect, hub } = gatewayOn(broker, { maxRooms: 1 });
  const eve = connect('eve');
  eve.frame({ type: 'send', rid: 1, room: 'lobby', clientMsgId: 'x', text: 'hi' });
  assert.equal(((await eve.reply(1)) as { code?: string }).code, 'not_member');
  eve.frame({ type: 'join', rid: 2, room: 'nowhere' });
  assert.equal(((await eve.reply(2)) as { code?: string }).code, 'room_not_found');
  const ann = connect('ann');
  broker.publish = async () => {
    throw new Error('nats: timeout');
  };
  ann.frame({ type: 'send', rid: 3, room: 'lobby', clientMsgId: 'y', text: 'hi' });
  assert.equal(((await ann.reply(3)) as { code?: string }).code, 'unavailable');
  ann.frame({ type: 'join', rid: 4, room: 'lobby' });
  await ann.reply(4);
  eve.frame({ type: 'join', rid: 5, room: 'lobby' });
  await eve.reply(5);
  ann.frame({ type: 'create', rid: 6, room: 'second' });
  const full = (await ann.reply(6)) as { code?: string; limit?: string };
  assert.deepEqual([full.code, full.limit], ['limit_exceeded', 'roomsPerSocket'], 'a socket in its maximum of rooms');
  await hub.close();
});

test('frames over the rate limits are answered rate_limited with their rid, limit and hint; a closed socket releases its user entry', async () => {
  const broker = new MemoryRoomBroker();
  let now = 0;
  const frameLimits = new FrameLimits(
    { socketSends: { ratePerSec: 1, burst: 2 }, userSends: { ratePerSec: 1, burst: 10 }, socketFrames: { ratePerSec: 1, burst: 1 } },
    () => now,
  );
  const { connect, hub } = gatewayOn(broker, { frameLimits });
  const ann = connect('ann');
  ann.frame({ type: 'join', rid: 1, room: 'lobby' });
  assert.equal((await ann.reply(1)).type, 'joined');
  ann.frame({ type: 'ping', rid: 2 });
  assert.deepEqual(await ann.reply(2), { type: 'error', code: 'rate_limited', message: 'too many frames; retry in 1000 ms', rid: 2, request: 'ping', limit: 'socketFrames', retryAfterMs: 1000 });
  ann.emit('message', Buffer.from('not json'), false);
  ann.emit('message', Buffer.from([1]), true);
  const refusedAnonymous = ann.frames.filter((f) => f.type === 'error' && f.code === 'rate_limited' && !('rid' in f));
  assert.equal(refusedAnonymous.length, 2, 'bad and binary frames are charged too');
  for (let i = 0; i < 3; i++) ann.frame({ type: 'send', rid: 10 + i, room: 'lobby', clientMsgId: `c${i}`, text: 'hi' });
  const replies = await Promise.all([10, 11, 12].map((rid) => ann.reply(rid)));
  assert.deepEqual(replies.map((r) => r.type === 'error' ? `${r.code}/${r.limit}` : r.type), ['ack', 'ack', 'rate_limited/socketSends']);
  now += 1000;
  ann.frame({ type: 'send', rid: 13, room: 'lobby', clientMsgId: 'c2', text: 'hi' });
  assert.equal((await ann.reply(13)).type, 'ack', 'accepted again after the hint');
  assert.equal(frameLimits.trackedUsers(), 1);
  ann.terminate();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(frameLimits.trackedUsers(), 0);
  await hub.close();
});

test('a removed member\'s socket is detached from the room and told; the others keep receiving', async () => {
  const broker = new MemoryRoomBroker();
  const { connect, hub, connectionOf } = gatewayOn(broker);
  const ann = connect('ann');
  const bob = connect('bob');
  ann.frame({ type: 'join', rid: 1, room: 'lobby' });
  bob.frame({ type: 'join', rid: 1, room: 'lobby' });
  await Promise.all([ann.reply(1), bob.reply(1)]);
  ann.frame({ type: 'send', rid: 2, room: 'lobby', clientMsgId: 'c1', text: 'one' });
  await ann.reply(2);
  await connectionOf(bob).endRoom('lobby', 'banned');
  assert.deepEqual(bob.frames.at(-1), { type: 'removed', room: 'lobby', reason: 'banned' });
  ann.frame({ type: 'send', rid: 3, room: 'lobby', clientMsgId: 'c2', text: 'two' });
  await ann.reply(3);
  while (ann.messages('lobby').length < 2) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(bob.messages('lobby').map((m) => m.text), ['one']);
  await connectionOf(bob).endRoom('lobby', 'banned');
  assert.equal(bob.frames.filter((f) => f.type === 'removed').length, 1, 'told once, only while attached');
  await hub.close();
});

test('a resume from before readFrom starts at readFrom (since_join)', async () => {
  const broker = new MemoryRoomBroker();
  const { connect, hub } = gatewayOn(broker, { readFrom: 3 });
  for (let i = 1; i <= 5; i++) broker.append({ id: `m${i}`, room: 'lobby', sender: 'ann', text: `t${i}`, ts: 1, clientMsgId: `c${i}` });
  const bob = connect('bob');
  bob.frame({ type: 'join', rid: 1, room: 'lobby', after: 0 });
  const joined = await bob.reply(1);
  assert.deepEqual(joined.type === 'joined' && [joined.head, joined.readFrom], [3, 3]);
  while (bob.messages('lobby').length < 2) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(bob.messages('lobby').map((m) => [m.pos, m.prev]), [[4, 3], [5, 4]]);
  await hub.close();
});

test('room-admin frames go out with the connection\'s user and session; lease_held comes back with its holder', async () => {
  const broker = new MemoryRoomBroker();
  const { connect, hub, adminRequests, connectionOf } = gatewayOn(broker);
  const ann = connect('ann');
  ann.frame({ type: 'remove', rid: 1, room: 'lobby', user: 'bob', fence: 7 });
  assert.deepEqual(await ann.reply(1), { type: 'member_updated', rid: 1, room: 'lobby', user: 'bob', state: 'none' });
  ann.frame({ type: 'lease_acquire', rid: 2, room: 'lobby', target: 'settings' });
  const held = await ann.reply(2);
  assert.deepEqual(held.type === 'error' && [held.code, held.holder], ['lease_held', 'zoe']);
  const session = connectionOf(ann).session;
  assert.deepEqual(adminRequests, [
    { op: 'remove', room: 'lobby', actor: 'ann', session, fence: 7, user: 'bob' },
    { op: 'lease_acquire', room: 'lobby', actor: 'ann', session, target: 'settings' },
  ]);
  assert.notEqual(connectionOf(connect('ann')).session, session, 'a second socket of the same user is another session');
  ann.close(1000);
  while (adminRequests.length < 3) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(adminRequests[2], { op: 'release_session', session }, 'a closed socket releases its leases');
  await hub.close();
});
