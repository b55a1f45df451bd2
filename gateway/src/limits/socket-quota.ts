import type { Redis } from 'ioredis';

/** A held socket slot; released when the socket closes. */
export interface SocketSlot {
  release(): void;
}

/** Open sockets per user: `acquire` gives a slot, or undefined when the user already has `max`. */
export interface SocketQuota {
  acquire(user: string): Promise<SocketSlot | undefined>;
  close(): Promise<void>;
}

// Drops slots whose gateway stopped refreshing them (it crashed), then counts and adds atomically.
const acquireScript = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

const slotsKey = (user: string) => `user-sockets:{${user}}`;

/**
 * Cluster-wide: `user-sockets:{user}` in Redis is a sorted set of `<gateway>/<n>` slots scored by
 * expiry; each gateway refreshes its own slots every ttl/3, so a crashed gateway's slots expire by
 * themselves. When Redis does not answer, the gateway counts its own sockets instead (the limit
 * then holds per gateway), so an outage of Redis does not lock users out.
 */
export class RedisSocketQuota implements SocketQuota {
  private readonly held = new Map<string, string>(); // slot -> user: one entry per open socket here
  private readonly local: LocalSocketQuota;
  private readonly timer: NodeJS.Timeout;
  private next = 0;

  constructor(
    private readonly redis: Redis,
    private readonly gatewayId: string,
    private readonly max: number,
    private readonly ttlMs = 30_000,
  ) {
    this.local = new LocalSocketQuota(max);
    this.timer = setInterval(() => void this.refresh().catch(() => {}), Math.max(100, Math.floor(ttlMs / 3)));
    this.timer.unref();
  }

  async acquire(user: string): Promise<SocketSlot | undefined> {
    const slot = `${this.gatewayId}/${++this.next}`;
    const now = Date.now();
    let granted: unknown;
    try {
      granted = await this.redis.eval(acquireScript, 1, slotsKey(user), now, this.max, slot, now + this.ttlMs, this.ttlMs);
    } catch {
      return this.local.acquire(user);
    }
    if (granted !== 1) return undefined;
    this.held.set(slot, user);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.held.delete(slot);
        void this.redis.zrem(slotsKey(user), slot).catch(() => {});
      },
    };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    const pipeline = this.redis.pipeline();
    for (const [slot, user] of this.held) pipeline.zrem(slotsKey(user), slot);
    this.held.clear();
    await pipeline.exec().catch(() => {});
  }

  private async refresh(): Promise<void> {
    if (this.held.size === 0) return;
    const expires = Date.now() + this.ttlMs;
    const pipeline = this.redis.pipeline();
    for (const [slot, user] of this.held) {
      pipeline.zadd(slotsKey(user), expires, slot);
      pipeline.pexpire(slotsKey(user), this.ttlMs);
    }
    await pipeline.exec();
  }
}

/** Per gateway: a count per user with an open socket here (entries go with the last socket). */
export class LocalSocketQuota implements SocketQuota {
  private readonly counts = new Map<string, number>();

  constructor(private readonly max: number) {}

  async acquire(user: string): Promise<SocketSlot | undefined> {
    const count = this.counts.get(user) ?? 0;
    if (count >= this.max) return undefined;
    this.counts.set(user, count + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const left = (this.counts.get(user) ?? 1) - 1;
        if (left > 0) this.counts.set(user, left);
        else this.counts.delete(user);
      },
    };
  }

  async close(): Promise<void> {}

  trackedUsers(): number {
    return this.counts.size;
  }
}
