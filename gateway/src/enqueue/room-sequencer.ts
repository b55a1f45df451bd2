import type { Redis } from 'ioredis';
import { SingleFlight } from '@chorus/shared/concurrency/single-flight';

/**
 * Assigns per-room sequence numbers at the gateway, before the message is enqueued, so the sender's
 * ack (sent once JetStream stores the message) can carry the seq.
 *
 * - One Redis counter per room (`room-seq:{room}`), incremented atomically: every gateway shares it.
 * - The seq given to a message id is remembered for the JetStream duplicate window
 *   (`msg-seq:{id}`): a client that retries a send with the same clientMsgId gets the same seq, and
 *   JetStream drops the duplicate publish, so a retry never burns a number (no gap, no duplicate).
 * - When the counter is missing (Redis lost its data, or the room is new), it is seeded from the
 *   durable head (highest stored or enqueued seq) with SET NX, so numbers continue, never restart.
 */
const assignScript = `
local known = redis.call('GET', KEYS[2])
if known then return tonumber(known) end
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local seq = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[2], seq, 'EX', ARGV[1])
return seq
`;

export interface DurableHead {
  /** Highest seq that is stored in MongoDB or still waiting in JetStream for the room. */
  (room: string): Promise<number>;
}

export class RoomSequencer {
  private readonly seeding = new SingleFlight<unknown>();

  constructor(
    private readonly redis: Redis,
    private readonly durableHead: DurableHead,
    private readonly rememberSeconds = 180,
  ) {
    redis.defineCommand('chorusAssignSeq', { numberOfKeys: 2, lua: assignScript });
  }

  async assign(room: string, messageId: string): Promise<number> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const seq = Number(await this.run(room, messageId));
      if (seq > 0) return seq;
      await this.seeding.run(room, async () => this.redis.set(counterKey(room), await this.durableHead(room), 'NX'));
    }
    throw new Error(`could not seed the sequence counter of room ${room}`);
  }

  /** A room created just now has no messages anywhere: its counter starts at 0 without a look-up. */
  async created(room: string): Promise<void> {
    await this.redis.set(counterKey(room), 0, 'NX');
  }

  private run(room: string, messageId: string): Promise<unknown> {
    const redis = this.redis as Redis & { chorusAssignSeq(k1: string, k2: string, ttl: number): Promise<unknown> };
    return redis.chorusAssignSeq(counterKey(room), `msg-seq:${messageId}`, this.rememberSeconds);
  }
}

const counterKey = (room: string) => `room-seq:{${room}}`;
