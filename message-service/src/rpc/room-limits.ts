import { limitNames } from '@chorus/shared/protocol/limit-names';
import type { Collections } from '../storage/collections.js';
import { RpcError } from './rpc-error.js';

export interface RoomLimitSettings {
  /** Rooms one user may create in any 60 minutes. */
  roomsCreatedPerHour: number;
  /** Rooms one user may be a member of. */
  roomsPerUser: number;
  /** Members one room may have. */
  membersPerRoom: number;
}

export const defaultRoomLimits: RoomLimitSettings = {
  roomsCreatedPerHour: 50,
  roomsPerUser: 500,
  membersPerRoom: 10_000,
};

const hourMs = 3_600_000;

/**
 * Quotas on rooms and memberships, checked against MongoDB (the data they limit) before a create,
 * a join or an admin's add writes. Only memberships in state `member` count (not invites, bans). Counts are capped at the limit, so a check reads at most `limit` index entries.
 * Check and write are not one transaction: requests of one user racing each other may overshoot a
 * limit by the number in flight, never more.
 */
export class RoomLimits {
  constructor(
    private readonly collections: Collections,
    private readonly settings: RoomLimitSettings,
    private readonly clock: () => number = Date.now,
  ) {}

  async beforeCreate(user: string): Promise<void> {
    const max = this.settings.roomsCreatedPerHour;
    const since = new Date(this.clock() - hourMs);
    const filter = { createdBy: user, createdAt: { $gt: since } };
    const recent = await this.collections.rooms.countDocuments(filter, { limit: max });
    if (recent >= max) {
      // The room whose hour ends first frees the next slot.
      const [oldest] = await this.collections.rooms.find(filter, { projection: { createdAt: 1 } }).sort({ createdAt: 1 }).limit(1).toArray();
      const retryAfterMs = oldest ? Math.max(1, oldest.createdAt.getTime() + hourMs - this.clock()) : hourMs;
      throw new RpcError('limit_exceeded', `${user} created ${max} rooms in the last hour; try again in ${Math.ceil(retryAfterMs / 1000)} s`, {
        limit: limitNames.roomsCreatedPerHour,
        retryAfterMs,
      });
    }
    await this.requireRoomSlot(user); // the creator becomes a member
  }

  /** For a user about to become a member (a join, an admin's add); a member joining again is not checked. */
  async beforeJoin(room: string, user: string): Promise<void> {
    const max = this.settings.membersPerRoom;
    // Both counts at once: a join waits for one round trip, not two.
    const [, members] = await Promise.all([
      this.requireRoomSlot(user),
      this.collections.memberships.countDocuments({ room, state: 'member' }, { limit: max }),
    ]);
    if (members >= max) {
      throw new RpcError('limit_exceeded', `room ${room} has ${max} members, its limit`, { limit: limitNames.membersPerRoom });
    }
  }

  private async requireRoomSlot(user: string): Promise<void> {
    const max = this.settings.roomsPerUser;
    if ((await this.collections.memberships.countDocuments({ user, state: 'member' }, { limit: max })) >= max) {
      throw new RpcError('limit_exceeded', `${user} is a member of ${max} rooms, the limit; leave one first`, { limit: limitNames.roomsPerUser });
    }
  }
}
