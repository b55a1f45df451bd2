import type { Redis } from 'ioredis';
import { SingleFlight } from '@chorus/shared/concurrency/single-flight';
import type { MessageServiceClient } from '../backend/message-service-client.js';

/**
 * Answers "is this user a member of this room?" without a database read on the hot path:
 * 1. an in-process cache of each room's members (bounded, short TTL, dropped when a
 *    chorus.membership.<room> invalidation arrives over NATS);
 * 2. a Redis set per room shared by every gateway;
 * 3. only on a miss of both, the message service (MongoDB), whose answer refills Redis.
 * A "no" from a cache is confirmed with the message service before a send is refused, so a stale
 * cache can delay a leave by one TTL but can never refuse a real member.
 */
export class MembershipCache {
  private readonly local = new Map<string, { members: Set<string>; expiresAt: number }>();
  private readonly redisReads = new SingleFlight<Set<string> | undefined>();
  private readonly databaseReads = new SingleFlight<Set<string>>();
  /** `<room>/<user>` -> when its removal was announced; bounded, oldest dropped first. */
  private readonly removals = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    private readonly backend: MessageServiceClient,
    private readonly localTtlMs = 30_000,
    private readonly redisTtlSeconds = 3600,
    private readonly maxRooms = 10_000,
  ) {}

  async isMember(room: string, user: string): Promise<boolean> {
    const cached = this.local.get(room);
    if (cached && cached.expiresAt > Date.now() && cached.members.has(user)) return true;
    // Redis down: the database answers instead (slower, but a send still goes through).
    const members = await this.redisReads.run(room, () => this.fromRedis(room)).catch(() => undefined);
    if (members?.has(user)) {
      this.remember(room, members);
      return true;
    }
    const fresh = await this.databaseReads.run(room, () => this.fromDatabase(room));
    return fresh.has(user);
  }

  /** Drops what this gateway knows of a room (membership changed somewhere). */
  invalidate(room: string): void {
    this.local.delete(room);
  }

  /** A room this gateway just created: its membership is exactly the creator, so Redis knows it at once. */
  async created(room: string, user: string): Promise<void> {
    this.local.delete(room);
    const key = membersKey(room);
    // Redis down: its set stays absent and the database answers until it is back.
    await this.redis.multi().del(key).sadd(key, emptyMarker, user).expire(key, this.redisTtlSeconds).exec().catch(() => {});
  }

  /** After this gateway changed a membership: update the shared set in place and forget locally. */
  async changed(room: string, user: string, member: boolean): Promise<void> {
    this.local.delete(room);
    const key = membersKey(room);
    // Only touch an existing set: creating a partial one would hide the other members.
    if (member) {
      // A failed add only costs a database read later (a cache "no" is confirmed there).
      await this.redis
        .eval(
          "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('SADD', KEYS[1], ARGV[1]); redis.call('EXPIRE', KEYS[1], ARGV[2]) end",
          1,
          key,
          user,
          this.redisTtlSeconds,
        )
        .catch(() => {});
    }
    else await this.redis.srem(key, user);
  }

  /**
   * An admin removed or banned the user (announced on every gateway): forget the room here and
   * take the user out of the shared set. A database read already in flight may still list them;
   * fromDatabase drops the users whose removal came after the read began.
   */
  async removed(room: string, user: string): Promise<void> {
    this.local.delete(room);
    const key = `${room}/${user}`;
    this.removals.delete(key);
    this.removals.set(key, Date.now());
    if (this.removals.size > this.maxRooms) this.removals.delete(this.removals.keys().next().value as string);
    await this.redis.srem(membersKey(room), user);
  }

  private async fromRedis(room: string): Promise<Set<string> | undefined> {
    const [[, exists], [, members]] = (await this.redis.multi().exists(membersKey(room)).smembers(membersKey(room)).exec()) as [
      [unknown, number],
      [unknown, string[]],
    ];
    return exists ? new Set(members) : undefined;
  }

  private async fromDatabase(room: string): Promise<Set<string>> {
    const startedAt = Date.now();
    const listed = (await this.backend.rooms({ op: 'members', room })).members;
    const members = listed.filter((user) => (this.removals.get(`${room}/${user}`) ?? -1) < startedAt);
    const key = membersKey(room);
    const pipeline = this.redis.multi().del(key);
    pipeline.sadd(key, emptyMarker, ...members).expire(key, this.redisTtlSeconds);
    await pipeline.exec().catch(() => {}); // a refill is an optimization; Redis may be down
    const set = new Set(members);
    this.remember(room, set);
    return set;
  }

  private remember(room: string, members: Set<string>): void {
    if (this.local.size >= this.maxRooms) this.local.delete(this.local.keys().next().value as string);
    this.local.set(room, { members, expiresAt: Date.now() + this.localTtlMs });
  }
}

const membersKey = (room: string) => `room-members:{${room}}`;
/** Keeps a set present when a room has no members, so "nobody" is cached too. */
const emptyMarker = '\u0000';
