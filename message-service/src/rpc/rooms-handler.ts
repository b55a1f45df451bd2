import { MongoServerError } from 'mongodb';
import type { NatsConnection } from '@nats-io/transport-node';
import { subjects } from '@chorus/shared/bus/names';
import type { RoomsRequest, RoomsResults } from '@chorus/shared/bus/payloads';
import type { RoomStream } from '@chorus/shared/bus/room-stream';
import { membershipId, type Collections } from '../storage/collections.js';
import type { QueryGate } from './query-gate.js';
import type { RoomLimits } from './room-limits.js';
import { RpcError } from './rpc-error.js';

type Op = RoomsRequest['op'];
type RequestOf<O extends Op> = Extract<RoomsRequest, { op: O }>;

/**
 * Answers `chorus.rpc.rooms`: create, join, leave, members, list, head. Every membership change is
 * announced on chorus.membership.<room> so gateways drop their cached member lists.
 */
export class RoomsHandler {
  constructor(
    private readonly collections: Collections,
    private readonly nc: NatsConnection,
    private readonly stream: RoomStream,
    private readonly gate: QueryGate,
    private readonly limits: Pick<RoomLimits, 'beforeCreate' | 'beforeJoin'>,
  ) {}

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

  private async create({ room, user }: RequestOf<'create'>): Promise<RoomsResults['create']> {
    await this.limits.beforeCreate(user);
    try {
      await this.collections.rooms.insertOne({ _id: room, createdBy: user, createdAt: new Date() });
    } catch (error) {
      if (error instanceof MongoServerError && error.code === 11000) throw new RpcError('room_exists', `room ${room} exists`);
      throw error;
    }
    await this.addMember(room, user);
    return { room, head: 0, created: true }; // a new room has no messages
  }

  private async join({ room, user }: RequestOf<'join'>, deadline: number | undefined): Promise<RoomsResults['join']> {
    await this.requireRoom(room);
    await this.limits.beforeJoin(room, user);
    await this.addMember(room, user);
    return { room, head: await this.head(room, deadline), created: false };
  }

  private async leave({ room, user }: RequestOf<'leave'>): Promise<RoomsResults['leave']> {
    const { deletedCount } = await this.collections.memberships.deleteOne({ _id: membershipId(room, user) });
    if (deletedCount === 0) {
      await this.requireRoom(room);
      throw new RpcError('not_member', `${user} is not a member of ${room}`);
    }
    this.announce(room);
    return { room };
  }

  private async members({ room }: RequestOf<'members'>): Promise<RoomsResults['members']> {
    await this.requireRoom(room);
    const docs = await this.collections.memberships.find({ room }, { projection: { user: 1 } }).toArray();
    return { room, members: docs.map((d) => d.user).sort() };
  }

  private async list({ user }: RequestOf<'list'>, deadline: number | undefined): Promise<RoomsResults['list']> {
    const docs = await this.collections.memberships.find({ user }, { projection: { room: 1 } }).toArray();
    const rooms = docs.map((d) => d.room).sort();
    const heads = await this.stream.heads(rooms);
    const missing = (await this.stream.firstSeq()) > 1 ? rooms.filter((room) => !heads.has(room)) : [];
    const stored = await Promise.all(missing.map((room) => this.storedHead(room, deadline)));
    missing.forEach((room, i) => heads.set(room, stored[i]!));
    return { rooms: rooms.map((room) => ({ room, head: heads.get(room) ?? 0 })) };
  }

  /** Position of the room's newest message: the stream's, or MongoDB's for a room quiet longer than the stream keeps. */
  private async head(room: string, deadline: number | undefined): Promise<number> {
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

  /** Idempotent: joining twice leaves one membership. */
  private async addMember(room: string, user: string): Promise<void> {
    try {
      await this.collections.memberships.updateOne(
        { _id: membershipId(room, user) },
        { $setOnInsert: { room, user, joinedAt: new Date() } },
        { upsert: true },
      );
    } catch (error) {
      // Two concurrent upserts of the same membership: the loser's insert hits the _id index.
      if (!(error instanceof MongoServerError && error.code === 11000)) throw error;
    }
    this.announce(room);
  }

  private announce(room: string): void {
    this.nc.publish(subjects.membership(room));
  }
}
