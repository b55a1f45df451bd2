/**
 * Reconnects per second over a run, in whole-second buckets from the first one: what the gateways
 * that take over the clients of a drained or killed gateway see. Bounded: one bucket per second.
 */
export class ReconnectRate {
  private readonly buckets = new Map<number, number>();
  private origin: number | undefined;
  total = 0;

  constructor(private readonly maxSeconds = 3_600) {}

  /** `now` in performance.now() milliseconds. */
  record(now: number): void {
    this.origin ??= now;
    const second = Math.floor((now - this.origin) / 1000);
    if (second >= this.maxSeconds) return;
    this.buckets.set(second, (this.buckets.get(second) ?? 0) + 1);
    this.total++;
  }

  /** The most reconnects in one second (0 when there were none). */
  peakPerSecond(): number {
    let peak = 0;
    for (const count of this.buckets.values()) peak = Math.max(peak, count);
    return peak;
  }
}
