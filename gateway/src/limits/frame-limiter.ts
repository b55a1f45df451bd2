import { limitNames, type LimitName } from '@chorus/shared/protocol/limit-names';
import { TokenBucket, type Clock, type TokenBucketSettings } from './token-bucket.js';

export interface FrameRateSettings {
  /** `send` frames of one socket. */
  socketSends: TokenBucketSettings;
  /** `send` frames of one user over all of its sockets on this gateway. */
  userSends: TokenBucketSettings;
  /** Every other frame of one socket (valid or not: a bad frame costs a parse and an answer too). */
  socketFrames: TokenBucketSettings;
}

export type FrameKind = 'send' | 'other';
export type Admission = { ok: true } | { ok: false; limit: LimitName; retryAfterMs: number };

/** The rate limits one socket's frames go through; released when the socket closes. */
export interface FrameLimiter {
  admit(kind: FrameKind): Admission;
  release(): void;
}

/**
 * Hands out one FrameLimiter per socket. The per-user send bucket is shared by the user's sockets
 * on this gateway and dropped with the last of them, so the map holds at most one entry per user
 * with an open socket here (per gateway, not cluster-wide: see docs/limits.md).
 */
export class FrameLimits {
  private readonly users = new Map<string, { bucket: TokenBucket; sockets: number }>();

  constructor(
    private readonly settings: FrameRateSettings,
    private readonly clock: Clock = Date.now,
  ) {}

  open(user: string): FrameLimiter {
    let shared = this.users.get(user);
    if (!shared) this.users.set(user, (shared = { bucket: new TokenBucket(this.settings.userSends, this.clock), sockets: 0 }));
    shared.sockets++;
    const userSends = shared.bucket;
    const socketSends = new TokenBucket(this.settings.socketSends, this.clock);
    const socketFrames = new TokenBucket(this.settings.socketFrames, this.clock);
    let released = false;
    return {
      admit: (kind) => {
        if (kind === 'other') {
          const wait = socketFrames.take();
          return wait === 0 ? { ok: true } : { ok: false, limit: limitNames.socketFrames, retryAfterMs: wait };
        }
        // Look at both before taking from either, so a refused send costs neither bucket a token.
        const socketWait = socketSends.peek();
        const userWait = userSends.peek();
        if (socketWait > 0 || userWait > 0) {
          return socketWait >= userWait
            ? { ok: false, limit: limitNames.socketSends, retryAfterMs: socketWait }
            : { ok: false, limit: limitNames.userSends, retryAfterMs: userWait };
        }
        socketSends.take();
        userSends.take();
        return { ok: true };
      },
      release: () => {
        if (released) return;
        released = true;
        const entry = this.users.get(user);
        if (entry && --entry.sockets <= 0) this.users.delete(user);
      },
    };
  }

  /** Users with a shared bucket now (tests check that the map shrinks). */
  trackedUsers(): number {
    return this.users.size;
  }
}
