import type { Logger } from '@chorus/shared/logging/logger';
import type { BatchWriter, WriteOutcome } from './batch-writer.js';
import type { InboundMessage } from './inbound-message.js';
import type { StatsCollector } from '../stats.js';
import { BatchTrace } from './batch-tracing.js';

export interface BatchProcessorOptions {
  writer: Pick<BatchWriter, 'write'>;
  stats: StatsCollector;
  log: Logger;
  /** insertMany calls in flight at once (default 2): the database works on one while the next travels. */
  maxInFlightWrites?: number | undefined;
  /** Called after each batch (tests observe batch sizes with it). */
  onBatch?: ((info: { size: number; processed: number; durationMs: number }) => void) | undefined;
}

const maxRetryPauseMs = 5_000;

/**
 * Runs batches: one insertMany, then ack. Delivery does not wait for this (gateways deliver from
 * the stream), so the database's pace shows up as writer lag, a backlog the autopilot scales on,
 * never as latency users see. Up to `maxInFlightWrites` inserts overlap.
 */
export class BatchProcessor {
  private readonly queue: InboundMessage[][] = [];
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  private retryPauseMs = 0;
  private pausedUntil = 0;
  private pauseTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private readonly maxInFlight: number;

  constructor(private readonly options: BatchProcessorOptions) {
    this.maxInFlight = Math.max(1, options.maxInFlightWrites ?? 2);
  }

  /** True from a failed database write until the next successful one (readiness). */
  get failing(): boolean {
    return this.retryPauseMs > 0;
  }

  /** Batches queued or being written. */
  get backlog(): number {
    return this.queue.length + this.inFlight;
  }

  /** The backlog at which the consumer loop should stop taking messages. */
  get backlogLimit(): number {
    return this.maxInFlight + 1;
  }

  enqueue(batch: InboundMessage[]): void {
    if (batch.length === 0) return;
    this.queue.push(batch);
    this.pump();
  }

  /** Resolves once the backlog is below `limit` (backpressure for the consumer loop). */
  whenBacklogBelow(limit: number): Promise<void> {
    if (this.backlog < limit) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.backlog < limit) resolve();
        else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  whenIdle(): Promise<void> {
    return this.whenBacklogBelow(1);
  }

  /** Shutdown: no more pauses between retries; what is queued is still processed. */
  beginClose(): void {
    this.closing = true;
    clearTimeout(this.pauseTimer);
    this.pausedUntil = 0;
    this.pump();
  }

  /** Starts writes while there are free slots and the database is not in a failure pause. */
  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
      const wait = this.pausedUntil - Date.now();
      if (wait > 0 && !this.closing) {
        // While the database fails, wait before the next batch instead of spinning through the
        // queue; the buffered messages stay unacked and are redelivered if this takes too long.
        this.pauseTimer ??= setTimeout(() => {
          this.pauseTimer = undefined;
          this.pump();
        }, wait);
        return;
      }
      this.start(this.queue.shift()!);
    }
  }

  private start(batch: InboundMessage[]): void {
    this.inFlight++;
    const startedAt = Date.now();
    const started = performance.now();
    const tracing = new BatchTrace(
      batch.map((item) => ({ headers: item.msg.headers, ts: item.message.ts, pulledAt: item.pulledAt })),
      startedAt,
    );
    void (async () => {
      let outcome: WriteOutcome;
      try {
        outcome = await this.options.writer.write(batch.map((item) => ({ pos: item.pos, message: item.message })));
      } catch (error) {
        outcome = { stored: [], lateDuplicates: [], conflicts: [], failed: batch.map((_, i) => i), error };
      }
      tracing.insert(startedAt, Date.now(), outcome.failed.length > 0 ? outcome.error : undefined);
      let ok = false;
      try {
        ok = this.finish(batch, outcome, tracing, started);
      } catch (error) {
        // An ack failed (connection closed): JetStream redelivers after ack_wait, and the
        // redelivery is recognized as stored.
        this.options.log.error({ err: error }, 'batch ack failed');
        for (const item of batch) nakQuietly(item);
      }
      if (ok) {
        this.retryPauseMs = 0;
      } else if (!this.closing) {
        this.retryPauseMs = Math.min(maxRetryPauseMs, Math.max(250, this.retryPauseMs * 2));
        this.pausedUntil = Date.now() + this.retryPauseMs;
      }
    })().finally(() => {
      this.inFlight--;
      this.pump();
      this.notify();
    });
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  /** Ack/nak/term, stats. Returns false when the write failed (messages nak'ed). */
  private finish(batch: InboundMessage[], outcome: WriteOutcome, tracing: BatchTrace, started: number): boolean {
    const { stats, log } = this.options;
    // Plain ack, not ackAck: a lost ack only means JetStream redelivers after ack_wait, and a
    // redelivery is recognized as stored. Awaiting a confirmation per batch buys nothing.
    for (const { index } of outcome.stored) batch[index]!.msg.ack();
    for (const index of outcome.lateDuplicates) {
      const { message, pos } = batch[index]!;
      log.warn({ id: message.id, room: message.room, pos }, 'message id already stored at another position (reused without resend after the duplicate window); stored as a later copy');
      batch[index]!.msg.ack();
    }
    for (const index of outcome.conflicts) {
      const { message, pos } = batch[index]!;
      log.error({ id: message.id, room: message.room, pos }, 'position already taken by another message (was the stream recreated over old data?); terminated');
      batch[index]!.msg.term('position conflict');
    }
    for (const index of outcome.failed) nakQuietly(batch[index]!);
    if (outcome.failed.length > 0) {
      log.warn({ err: outcome.error, failed: outcome.failed.length, size: batch.length }, "batch write failed; messages nak'ed for redelivery");
    }

    const status: ('acked' | 'nak' | 'term')[] = new Array(batch.length).fill('acked');
    for (const index of outcome.conflicts) status[index] = 'term';
    for (const index of outcome.failed) status[index] = 'nak';
    tracing.end((i) => status[i]!, { 'batch.stored': outcome.stored.length, 'batch.failed': outcome.failed.length });

    const durationMs = performance.now() - started;
    stats.recordBatch({
      size: batch.length,
      processed: outcome.stored.length,
      duplicates: outcome.stored.filter((s) => s.redelivered).length + outcome.lateDuplicates.length,
      conflicts: outcome.conflicts.length,
      failed: outcome.failed.length,
      durationMs,
    });
    this.options.onBatch?.({ size: batch.length, processed: outcome.stored.length, durationMs });
    return outcome.failed.length === 0;
  }
}

/** Redelivery delay grows with the number of attempts, up to 30 s. */
function nakQuietly(item: InboundMessage): void {
  const attempts = item.msg.info.deliveryCount;
  try {
    item.msg.nak(Math.min(30_000, 500 * 2 ** Math.min(6, attempts - 1)));
  } catch {
    // Connection gone: JetStream redelivers after ack_wait anyway.
  }
}
