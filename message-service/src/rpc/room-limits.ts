import type { Filter } from 'mongodb';
import { limitNames } from '@chorus/shared/protocol/limit-names';
import type { Collections, MembershipDoc } from '../storage/collections.js';
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
/** Within this many of a limit, memberships are counted exactly. */
const exactWithin = 100;
/** An estimate older than this is counted again. */
const estimateMaxAgeMs = 10 * 60_000;
const flushEveryMs = 500;
const maxPendingCounts = 1_000;
/** A user with no kept count is counted exactly (and from then on kept) at this many joins on one replica. */
const countUntrackedEvery = 20;
const maxUntrackedUsers = 10_000;

/**
 * Quotas on rooms and memberships, checked against MongoDB (the data they limit) before a create,
 * a join or an admin's add writes. Only memberships in state `member` count (not invites, bans).
 *
 * Counting memberships is a collection scan on FerretDB, so a join reads a kept count by _id
 * (`membership_counts`, raised by every join and add, written in batches) and counts exactly only when that count is
 * within 100 of the limit or older than 10 minutes. No kept count reads as 0: a room's first join
 * starts one; a user's is started by an exact count at the user's 20th join on a replica, so a
 * user may join up to 19 rooms per replica unchecked before it (limits of 100 or less are always
 * counted exactly). A
 * leave does not lower it, so it errs high until the next exact count; it errs low by memberships
 * from before counts were kept (for at most those 10 minutes) and by increments lost to a crash
 * between the two writes. Check and write are not one transaction: joins racing each other near
 * a limit may overshoot it by the number in flight.
 */
export class RoomLimits {
  private readonly pending = new Map<string, number>();
  /** Joins on this replica of users with no kept count yet, oldest user first (bounded). */
  private readonly untrackedJoins = new Map<string, number>();
  private flushTimer: NodeJS.Timeout | undefined;

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
    const [, members] = await Promise.all([this.requireRoomSlot(user), this.count(`room/${room}`, { room, state: 'member' }, max)]);
    if (members >= max) {
      throw new RpcError('limit_exceeded', `room ${room} has ${max} members, its limit`, { limit: limitNames.membersPerRoom });
    }
  }

  /**
   * A user became a member of a room: the kept counts go up. Raises are gathered and written
   * every 500 ms, one upsert per count: writes are what FerretDB's SQLite serializes, and a
   * room's many joins cost one write per flush.
   */
  joined(room: string, user: string): void {
    for (const key of [`room/${room}`, `user/${user}`]) this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
    // A user without a kept count is counted exactly every 20th join on this replica (see count).
    this.untrackedJoins.set(user, (this.untrackedJoins.get(user) ?? 0) + 1);
    if (this.untrackedJoins.size > maxUntrackedUsers) this.untrackedJoins.delete(this.untrackedJoins.keys().next().value as string);
    // Bounded: a burst of distinct rooms and users is written at once rather than held.
    if (this.pending.size >= maxPendingCounts) void this.flush();
    else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => void this.flush(), flushEveryMs);
      this.flushTimer.unref();
    }
  }

  /** Writes the gathered raises (also on close). */
  async flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.size === 0) return;
    const countedAt = this.clock();
    const raises = [...this.pending];
    this.pending.clear();
    // One update per count by _id (a bulk write holds SQLite's write lock for all of them at once).
    await Promise.all(
      raises.map(([key, n]) =>
        // A room's count starts with its first join; a user's only once counted (most users join a
        // few rooms, and their counts would be one write each for nothing).
        key.startsWith('room/')
          ? this.collections.membershipCounts.updateOne({ _id: key }, { $inc: { n }, $setOnInsert: { countedAt } }, { upsert: true }).catch(() => {})
          : this.collections.membershipCounts.updateOne({ _id: key }, { $inc: { n } }).catch(() => {}),
      ),
    ); // estimates: a lost raise is recounted later
  }

  private async requireRoomSlot(user: string): Promise<void> {
    const max = this.settings.roomsPerUser;
    if ((await this.count(`user/${user}`, { user, state: 'member' }, max)) >= max) {
      throw new RpcError('limit_exceeded', `${user} is a member of ${max} rooms, the limit; leave one first`, { limit: limitNames.roomsPerUser });
    }
  }

  /**
   * The kept count when it is fresh and far from `max` (none kept: 0, a room or user nobody joined
   * yet); otherwise an exact count (capped at max), which is kept.
   */
  private async count(key: string, filter: Filter<MembershipDoc>, max: number): Promise<number> {
    const now = this.clock();
    const kept = await this.collections.membershipCounts.findOne({ _id: key });
    const estimate = (kept?.n ?? 0) + (this.pending.get(key) ?? 0);
    const user = key.startsWith('user/') ? key.slice(5) : undefined;
    const due = !kept && user !== undefined && (this.untrackedJoins.get(user) ?? 0) >= countUntrackedEvery;
    if (!due && estimate + exactWithin < max && (!kept || now - kept.countedAt < estimateMaxAgeMs)) return estimate;
    if (user !== undefined) this.untrackedJoins.delete(user);
    const exact = await this.collections.memberships.countDocuments(filter, { limit: max });
    await this.collections.membershipCounts.updateOne({ _id: key }, { $set: { n: exact, countedAt: now } }, { upsert: true }).catch(() => {});
    return exact;
  }
}
