import { MongoServerError } from 'mongodb';
import type { RoomSettings } from '@chorus/shared/protocol/room-rules';
import { membershipId, type Collections, type MembershipDoc, type RoomDoc } from '../storage/collections.js';
import { RpcError } from '../rpc/rpc-error.js';
import type { Standing } from './room-policy.js';

export interface Observed {
  doc: MembershipDoc | null;
  standing: Standing;
}

/**
 * Reads and writes rooms and memberships. A membership changes only by compare-and-set on the
 * state, role and fence that were read: one atomic single-document update (or an insert where
 * there was nothing), never a rewrite of a member list. Two admins changing two members never
 * touch the same document; two changes of one member cannot both apply to the same state.
 */
export class MemberStore {
  constructor(private readonly collections: Collections) {}

  async room(room: string): Promise<RoomDoc> {
    const doc = await this.collections.rooms.findOne({ _id: room });
    if (!doc) throw new RpcError('room_not_found', `room ${room} does not exist`);
    return doc;
  }

  async standing(room: RoomDoc, user: string): Promise<Observed> {
    const doc = await this.collections.memberships.findOne({ _id: membershipId(room._id, user) });
    return { doc, standing: standingOf(room, user, doc) };
  }

  /**
   * Writes `change` if the membership is still as observed and its last admin write had a token
   * no newer than `fence` (admin writes only). False: it changed meanwhile, decide again.
   */
  async compareAndSet(room: string, user: string, observed: MembershipDoc | null, change: Partial<Omit<MembershipDoc, '_id'>>, fence?: number): Promise<boolean> {
    const _id = membershipId(room, user);
    if (observed === null) {
      try {
        await this.collections.memberships.insertOne({ _id, room, user, state: 'none', role: 'member', joinedAt: new Date(), readFrom: 0, fence: 0, ...change });
        return true;
      } catch (error) {
        if (error instanceof MongoServerError && error.code === 11000) return false;
        throw error;
      }
    }
    if (fence !== undefined && observed.fence > fence) throw stale(user, fence);
    // Equal fence as well as state and role: a newer lease's write in between fails this.
    const { matchedCount } = await this.collections.memberships.updateOne(
      { _id, state: observed.state, role: observed.role, fence: observed.fence },
      { $set: { ...change, ...(fence !== undefined && { fence }) } },
    );
    if (matchedCount === 1) return true;
    if (fence !== undefined) {
      const now = await this.collections.memberships.findOne({ _id }, { projection: { fence: 1 } });
      if (now && now.fence > fence) throw stale(user, fence);
    }
    return false;
  }

  /** The position after which the user reads, or not_member. */
  async readFrom(room: string, user: string): Promise<number> {
    const doc = await this.collections.memberships.findOne({ _id: membershipId(room, user) }, { projection: { state: 1, readFrom: 1 } });
    if (doc?.state !== 'member') throw new RpcError('not_member', `${user} is not a member of room ${room}`);
    return doc.readFrom;
  }
}

function stale(user: string, fence: number): RpcError {
  return new RpcError('stale_fence', `fencing token ${fence} is stale: ${user} was changed under a newer lease`);
}

export function ownerOf(room: RoomDoc): string {
  return room.owner ?? room.createdBy;
}

export function settingsOf(room: RoomDoc): RoomSettings {
  return { name: room.name ?? room._id, topic: room.topic ?? '', visibility: room.visibility ?? 'public', history: room.history ?? 'all' };
}

export function standingOf(room: RoomDoc, user: string, doc: MembershipDoc | null): Standing {
  if (!doc) return { state: 'none', role: 'member' };
  if (doc.state === 'member' && ownerOf(room) === user) return { state: 'member', role: 'owner' };
  return { state: doc.state, role: doc.role };
}
