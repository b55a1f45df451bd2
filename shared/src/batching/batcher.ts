/** How a batch is cut: at most `batchSize` items, and no item waits longer than `flushIntervalMs`. */
export interface BatchLimits {
  batchSize: number;
  flushIntervalMs: number;
}

export type FlushReason = 'size' | 'time' | 'manual';

/**
 * Collects items into batches: a batch is handed to `onFlush` as soon as it holds `batchSize`
 * items, or `flushIntervalMs` after its first item arrived, whichever comes first. Pure timing
 * logic with no I/O, so it is unit-tested without NATS. Limits can change at any time (live
 * settings); a change applies to the batch being collected.
 */
export class Batcher<T> {
  private items: T[] = [];
  private firstAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private limits: BatchLimits;

  constructor(
    limits: BatchLimits,
    private readonly onFlush: (items: T[], reason: FlushReason) => void,
  ) {
    this.limits = { ...limits };
  }

  get pending(): number {
    return this.items.length;
  }

  get currentLimits(): BatchLimits {
    return { ...this.limits };
  }

  add(item: T): void {
    this.items.push(item);
    if (this.items.length >= this.limits.batchSize) {
      this.emit('size');
    } else if (this.items.length === 1) {
      this.firstAt = Date.now();
      this.arm(this.limits.flushIntervalMs);
    }
  }

  setLimits(limits: BatchLimits): void {
    this.limits = { ...limits };
    if (this.items.length === 0) return;
    if (this.items.length >= limits.batchSize) {
      this.emit('size');
      return;
    }
    // The deadline of the batch in progress moves with the interval, counted from its first item.
    this.arm(Math.max(0, this.firstAt + limits.flushIntervalMs - Date.now()));
  }

  /** Hands over whatever is collected now (shutdown). */
  flush(): void {
    if (this.items.length > 0) this.emit('manual');
  }

  /** Stops the timer; collected items stay until flush(). */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.items.length > 0) this.emit('time');
    }, delayMs);
  }

  private emit(reason: FlushReason): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.items;
    this.items = [];
    this.onFlush(batch, reason);
  }
}
