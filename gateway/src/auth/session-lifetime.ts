/** setTimeout's largest delay; longer waits are done in steps. */
const maxTimerMs = 2 ** 31 - 1;

/**
 * Ends a socket when its token expires: at `exp` plus the clock tolerance the verifier granted,
 * unless renew() brought a later expiry first.
 */
export class SessionLifetime {
  private timer: NodeJS.Timeout | undefined;
  private endsAtMs = 0;

  constructor(
    expiresAtSeconds: number,
    private readonly toleranceMs: number,
    private readonly onExpired: () => void,
  ) {
    this.renew(expiresAtSeconds);
  }

  /** When the socket ends (ms since epoch) without a refresh; sent to the client. */
  get expiresAtMs(): number {
    return this.endsAtMs - this.toleranceMs;
  }

  renew(expiresAtSeconds: number): void {
    this.endsAtMs = expiresAtSeconds * 1000 + this.toleranceMs;
    this.arm();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private arm(): void {
    clearTimeout(this.timer);
    // Always through a timer, even when already due: the owner finishes constructing first.
    const delay = Math.max(0, this.endsAtMs - Date.now());
    this.timer = setTimeout(() => (Date.now() >= this.endsAtMs ? this.onExpired() : this.arm()), Math.min(delay, maxTimerMs));
    this.timer.unref();
  }
}
