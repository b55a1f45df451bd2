/** Counters since start, for tests and /readyz-style inspection. */
export interface MessageServiceStats {
  /** Messages stored (or found already stored) and acked. */
  processed: number;
  batches: number;
  /** Redeliveries whose message was already stored, and later copies of a stored message id. */
  duplicates: number;
  /** Messages whose (room, pos) belonged to another message; terminated. */
  conflicts: number;
  /** Messages not written (database error), nak'ed for redelivery. */
  failed: number;
  /** Payloads that failed validation; terminated. */
  invalid: number;
  /** Sizes of the most recent batches, oldest first (at most 100). */
  recentBatchSizes: number[];
}

/** What happened in one stats window (one report line). */
export interface StatsWindow {
  processed: number;
  batches: number;
  batchSizeSum: number;
  flushDurationsMs: number[];
  startedAt: number;
  endedAt: number;
}

const recentLimit = 100;

/** Collects counters for both the stats log line (per window) and the totals. */
export class StatsCollector {
  private totals: Omit<MessageServiceStats, 'recentBatchSizes'> = {
    processed: 0,
    batches: 0,
    duplicates: 0,
    conflicts: 0,
    failed: 0,
    invalid: 0,
  };
  private recent: number[] = [];
  private window = emptyWindow(Date.now());

  recordBatch(result: { size: number; processed: number; duplicates: number; conflicts: number; failed: number; durationMs: number }): void {
    this.totals.batches++;
    this.totals.processed += result.processed;
    this.totals.duplicates += result.duplicates;
    this.totals.conflicts += result.conflicts;
    this.totals.failed += result.failed;
    this.recent.push(result.size);
    if (this.recent.length > recentLimit) this.recent.shift();
    this.window.processed += result.processed;
    this.window.batches++;
    this.window.batchSizeSum += result.size;
    this.window.flushDurationsMs.push(result.durationMs);
  }

  recordInvalid(): void {
    this.totals.invalid++;
  }

  snapshot(): MessageServiceStats {
    return { ...this.totals, recentBatchSizes: [...this.recent] };
  }

  /** Returns the current window and starts a new one. */
  takeWindow(): StatsWindow {
    const now = Date.now();
    const window = { ...this.window, endedAt: now };
    this.window = emptyWindow(now);
    return window;
  }
}

function emptyWindow(startedAt: number): StatsWindow {
  return { processed: 0, batches: 0, batchSizeSum: 0, flushDurationsMs: [], startedAt, endedAt: startedAt };
}

/** The q-quantile (0..1) of values by nearest rank; 0 for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}
