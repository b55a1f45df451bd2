import type { Redis } from 'ioredis';
import type { NatsConnection } from '@nats-io/transport-node';
import { subjects } from '@chorus/shared/bus/names';
import type { Presence } from './presence.js';

/**
 * Who is online where, in Redis, kept alive by heartbeats so a crashed gateway's users fade out by
 * themselves after the TTL:
 * - `presence:{room}`: sorted set of `user@gateway`, scored by expiry time;
 * - `user-gateways:{user}`: sorted set of gateway ids holding a connection of the user.
 * A change is announced on chorus.presence.<room> so every gateway can push the new list.
 */
export class PresenceTracker implements Presence {
  /** (room -> user -> local attachment count) */
  private readonly local = new Map<string, Map<string, number>>();
  private readonly users = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly nc: NatsConnection,
    private readonly gatewayId: string,
    private readonly ttlMs = 30_000,
    heartbeatMs = 10_000,
  ) {
    this.timer = setInterval(() => void this.heartbeat().catch(() => {}), heartbeatMs);
    this.timer.unref();
  }

  async connected(user: string): Promise<void> {
    this.users.set(user, (this.users.get(user) ?? 0) + 1);
    await this.redis.zadd(`user-gateways:{${user}}`, Date.now() + this.ttlMs, this.gatewayId);
  }

  async disconnected(user: string): Promise<void> {
    const count = (this.users.get(user) ?? 1) - 1;
    if (count > 0) return void this.users.set(user, count);
    this.users.delete(user);
    await this.redis.zrem(`user-gateways:{${user}}`, this.gatewayId);
  }

  async entered(room: string, user: string): Promise<void> {
    let users = this.local.get(room);
    if (!users) this.local.set(room, (users = new Map()));
    const count = (users.get(user) ?? 0) + 1;
    users.set(user, count);
    if (count > 1) return;
    await this.redis.zadd(presenceKey(room), Date.now() + this.ttlMs, this.member(user));
    this.nc.publish(subjects.presence(room), JSON.stringify({ room, user, online: true }));
  }

  async left(room: string, user: string): Promise<void> {
    const users = this.local.get(room);
    const count = (users?.get(user) ?? 1) - 1;
    if (users && count > 0) return void users.set(user, count);
    users?.delete(user);
    if (users?.size === 0) this.local.delete(room);
    await this.redis.zrem(presenceKey(room), this.member(user));
    this.nc.publish(subjects.presence(room), JSON.stringify({ room, user, online: false }));
  }

  /** Users online in the room on any gateway, sorted. */
  async online(room: string): Promise<string[]> {
    const members = await this.redis.zrangebyscore(presenceKey(room), Date.now(), '+inf');
    return [...new Set(members.map((m) => m.slice(0, m.lastIndexOf('@'))))].sort();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    const pipeline = this.redis.pipeline();
    for (const [room, users] of this.local) for (const user of users.keys()) pipeline.zrem(presenceKey(room), this.member(user));
    for (const user of this.users.keys()) pipeline.zrem(`user-gateways:{${user}}`, this.gatewayId);
    await pipeline.exec();
  }

  private async heartbeat(): Promise<void> {
    const expires = Date.now() + this.ttlMs;
    const pipeline = this.redis.pipeline();
    for (const [room, users] of this.local) {
      for (const user of users.keys()) pipeline.zadd(presenceKey(room), expires, this.member(user));
      // Entries of gateways that died stop being refreshed; trim them now and then.
      pipeline.zremrangebyscore(presenceKey(room), '-inf', Date.now());
    }
    for (const user of this.users.keys()) pipeline.zadd(`user-gateways:{${user}}`, expires, this.gatewayId);
    await pipeline.exec();
  }

  private member(user: string): string {
    return `${user}@${this.gatewayId}`;
  }
}

const presenceKey = (room: string) => `presence:{${room}}`;
