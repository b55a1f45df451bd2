import { MongoServerError } from 'mongodb';
import type { NatsConnection } from '@nats-io/transport-node';
import type { MembershipChange, RoomsRequest, RoomsResults } from '@chorus/shared/bus/payloads';
import type { RoomStream } from '@chorus/shared/bus/room-stream';
import { membershipId, type Collections } from '../storage/collections.js';
import { announceMembership } from '../rooms/announce-membership.js';
import { MemberStore, settingsOf, standingOf } from '../rooms/member-store.js';
import { decideJoin, decideLeave, readFromAtJoin } from '../rooms/room-policy.js';
import type { QueryGate } from './query-gate.js';
import type { RoomLimits } from './room-limits.js';
import { RpcError } from './rpc-error.js';

type Op = RoomsRequest['op'];
type RequestOf<O extends Op> = Extract<RoomsRequest, { op: O }>;

/** Compare-and-set attempts before a membership that keeps changing is answered `unavailable`. */
const maxAttempts = 4;

/**
 * Answers `chorus.rpc.rooms`: create, join, leave, members, list, head. Join and leave follow the
 * room rules (room-policy.ts): a private room needs an invite, a ban keeps a user out, the owner
 * cannot leave. Every membership change is announced on chorus.membership.<room> so gateways drop
 * their cached member lists.
 */
export class RoomsHandler {
  private readonly store: MemberStore;

  constructor(
    private readonly collections: Collections,
    private readonly nc: NatsConnection,
    private readonly stream: RoomStream,
    private readonly gate: QueryGate,
    private readonly limits: Pick<RoomLimits, 'beforeCreate' | 'beforeJoin' | 'joined'>,
  ) {
    this.store = new MemberStore(collections);
  }

  handle(request: RoomsRequest, deadline?: number): Promise<RoomsResults[Op]> {
    switch (request.op) {
      case 'create':
        return this.create(request);
      case 'join':
        return this.join(request, deadline);
      case 'leave':
        return this.leave(request);
      case 'members':
        return this.members(request);
      case 'list':
        return this.list(request, deadline);
      case 'head':
        return this.head(request.room, deadline).then((head) => ({ room: request.room, head }));
    }
  }

  private async create({ room, user, visibility, history }: RequestOf<'create'>): Promise<RoomsResults['create']> {
    await this.limits.beforeCreate(user);
    try {
      await this.collections.rooms.insertOne({
        _id: room,
        createdBy: user,
        createdAt: new Date(),
        owner: user,
        name: room,
        topic: '',
        visibility: visibility ?? 'public',
        history: history ?? 'all',
        fenceSeq: 0,
        settingsFence: 0,
      });
    } catch (error) {
      if (error instanceof MongoServerError && error.code === 11000) throw new RpcError('room_exists', `room ${room} exists`);
      throw error;
    }
    await this.collections.memberships.updateOne(
      { _id: membershipId(room, user) },
      { $set: { room, user, state: 'member', role: 'member', joinedAt: new Date(), readFrom: 0, fence: 0 } },
      { upsert: true },
    );
    this.limits.joined(room, user);
    this.announce(room, { user, change: 'joined' });
    return { room, head: 0, created: true }; // a new room has no messages
  }

  private async join({ room, user }: RequestOf<'join'>, deadline: number | undefined): Promise<RoomsResults['join']> {
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const roomDoc = await this.store.room(room);
      const { doc, standing } = await this.store.standing(roomDoc, user);
      const decision = decideJoin(settingsOf(roomDoc).visibility, standing);
      const head = await this.head(room, deadline);
      if (decision === 'already_member') return { room, head, created: false, readFrom: doc!.readFrom };
      if (!decision.ok) throw new RpcError(decision.code, decision.message);
      await this.limits.beforeJoin(room, user);
      const readFrom = readFromAtJoin(settingsOf(roomDoc).history, head);
      if (await this.store.compareAndSet(room, user, doc, { state: 'member', role: 'member', joinedAt: new Date(), readFrom })) {
        this.limits.joined(room, user);
        this.announce(room, { user, change: 'joined' });
        return { room, head, created: false, readFrom };
      }
    }
    throw new RpcError('unavailable', `the membership of ${user} in ${room} keeps changing; try again`);
  }

  private async leave({ room, user }: RequestOf<'leave'>): Promise<RoomsResults['leave']> {
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const roomDoc = await this.store.room(room);
      const { doc, standing } = await this.store.standing(roomDoc, user);
      const decision = decideLeave(standing);
      if (!decision.ok) throw new RpcError(decision.code, decision.code === 'not_member' ? `${user} is not a member of ${room}` : decision.message);
      if (await this.store.compareAndSet(room, user, doc, { state: 'none', role: 'member' })) {
        this.announce(room, { user, change: 'left' });
        return { room };
      }
    }
    throw new RpcError('unavailable', `the membership of ${user} in ${room} keeps changing; try again`);
  }

  private async members({ room }: RequestOf<'members'>): Promise<RoomsResults['members']> {
    await this.requireRoom(room);
    const docs = await this.collections.memberships.find({ room, state: 'member' }, { projection: { user: 1 } }).toArray();
    return { room, members: docs.map((d) => d.user).sort() };
  }

  private async list({ user }: RequestOf<'list'>, deadline: number | undefined): Promise<RoomsResults['list']> {
    const docs = await this.collections.memberships.find({ user }).toArray();
    const rooms = docs.filter((d) => d.state === 'member').map((d) => d.room).sort();
    const invites = docs.filter((d) => d.state === 'invited').map((d) => d.room).sort();
    const roomDocs = new Map((await this.collections.rooms.find({ _id: { $in: rooms } }).toArray()).map((r) => [r._id, r]));
    const docOf = new Map(docs.map((d) => [d.room, d]));
    const heads = await this.stream.heads(rooms);
    const missing = (await this.stream.firstSeq()) > 1 ? rooms.filter((room) => !heads.has(room)) : [];
    const stored = await Promise.all(missing.map((room) => this.storedHead(room, deadline)));
    missing.forEach((room, i) => heads.set(room, stored[i]!));
    return {
      rooms: rooms.flatMap((room) => {
        const roomDoc = roomDocs.get(room);
        if (!roomDoc) return [];
        return [{ room, head: heads.get(room) ?? 0, visibility: settingsOf(roomDoc).visibility, role: standingOf(roomDoc, user, docOf.get(room)!).role }];
      }),
      invites,
    };
  }

  /** Position of the room's newest message: the stream's, or MongoDB's for a room quiet longer than the stream keeps. */
  async head(room: string, deadline: number | undefined): Promise<number> {
    const head = await this.stream.head(room);
    if (head > 0) return head;
    // Nothing of the room in the stream: if the stream never dropped a message, nothing anywhere.
    return (await this.stream.firstSeq()) > 1 ? this.storedHead(room, deadline) : 0;
  }

  private storedHead(room: string, deadline: number | undefined): Promise<number> {
    return this.gate.run(
      `head/${room}`,
      async () => {
        const [last] = await this.collections.messages.find({ room }, { projection: { _id: 0, pos: 1 } }).sort({ pos: -1 }).limit(1).toArray();
        return last?.pos ?? 0;
      },
      deadline,
    );
  }

  private async requireRoom(room: string): Promise<void> {
    const found = await this.collections.rooms.findOne({ _id: room }, { projection: { _id: 1 } });
    if (!found) throw new RpcError('room_not_found', `room ${room} does not exist`);
  }

  private announce(room: string, change: MembershipChange): void {
    announceMembership(this.nc, room, change);
  }
}
