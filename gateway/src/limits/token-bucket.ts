/** Milliseconds since some fixed point; injected so tests drive time by hand. */
export type Clock = () => number;

export interface TokenBucketSettings {
  /** Tokens added per second (the sustained rate). */
  ratePerSec: number;
  /** Most tokens held at once (the burst allowed after a quiet spell). */
  burst: number;
}

/**
 * A token bucket: `burst` tokens at first, refilled at `ratePerSec`, one taken per event. Lazy
 * refill on each call, so an idle bucket costs nothing and needs no timer.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly settings: TokenBucketSettings,
    private readonly clock: Clock = Date.now,
  ) {
    if (!(settings.ratePerSec > 0) || !(settings.burst >= 1)) throw new Error('a token bucket needs ratePerSec > 0 and burst >= 1');
    this.tokens = settings.burst;
    this.updatedAt = clock();
  }

  /** Takes one token if there is one: 0. Otherwise takes nothing and returns the ms until one is there. */
  take(): number {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return this.waitMs();
  }

  /** Whether a token is there now, without taking it; 0 or the ms until one is. */
  peek(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : this.waitMs();
  }

  /** True once the bucket is full again: it holds no state worth keeping. */
  full(): boolean {
    this.refill();
    return this.tokens >= this.settings.burst;
  }

  private waitMs(): number {
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.settings.ratePerSec));
  }

  private refill(): void {
    const now = this.clock();
    const elapsed = Math.max(0, now - this.updatedAt);
    this.updatedAt = now;
    this.tokens = Math.min(this.settings.burst, this.tokens + (elapsed * this.settings.ratePerSec) / 1000);
  }
}
