import type { Logger } from '@chorus/shared/logging/logger';
import type { BatchWriter, WriteOutcome } from './batch-writer.js';
import type { FanoutEntry, FanoutPublisher } from './fanout-publisher.js';
import type { InboundMessage } from './inbound-message.js';
import type { StatsCollector } from './stats.js';
import { BatchTrace } from './batch-tracing.js';

export interface BatchProcessorOptions {
  writer: Pick<BatchWriter, 'write'>;
  fanout: Pick<FanoutPublisher, 'publish'>;
  stats: StatsCollector;
  log: Logger;
  /**
   * insertMany calls in flight at once (default 2). Their fan-out and acks still happen strictly
   * in batch order, so a replica's fan-out of a room stays in seq order.
   */
  maxInFlightWrites?: number | undefined;
  /** Called after each batch (tests observe batch sizes with it). */
  onBatch?: ((info: { size: number; processed: number; durationMs: number }) => void) | undefined;
}

const maxRetryPauseMs = 5_000;

/**
 * Runs batches: insertMany, then fan-out, then ack. Up to `maxInFlightWrites` inserts overlap
 * (the database works on one while the next one travels), but each batch is fanned out and acked
 * only after the batch before it, so receivers see a replica's messages of a room in seq order.
 */
export class BatchProcessor {
  private readonly queue: InboundMessage[][] = [];
  private inFlight = 0;
  /** The fan-out/ack step of the latest started batch; the next one chains onto it. */
  private lastFinish: Promise<void> = Promise.resolve();
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
    const written = this.options.writer.write(batch.map((item) => item.message)).then(
      (outcome) => {
        tracing.insert(startedAt, Date.now(), outcome.failed.length > 0 ? outcome.error : undefined);
        return outcome;
      },
      (error: unknown): WriteOutcome => ({ stored: [], conflicts: [], failed: batch.map((_, i) => i), error }),
    );
    const previous = this.lastFinish;
    this.lastFinish = (async () => {
      const outcome = await written;
      await previous;
      let ok = false;
      try {
        ok = this.finish(batch, outcome, tracing, started);
      } catch (error) {
        // Fan-out or ack failed (connection closed): nothing was acked that way, so redelivery
        // brings the batch back; it is stored already and will be acked as duplicates.
        this.options.log.error({ err: error }, 'batch fan-out/ack failed');
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

  /** Fan-out, ack/nak/term, stats. Returns false when the write failed (messages nak'ed). */
  private finish(batch: InboundMessage[], outcome: WriteOutcome, tracing: BatchTrace, started: number): boolean {
    const { fanout, stats, log } = this.options;
    const spans: { end(): void }[] = [];
    const entries: FanoutEntry[] = outcome.stored.map(({ index, message }) => {
      const { traceparent, span } = tracing.startFanout(index);
      if (span) spans.push(span);
      return { message, traceparent };
    });
    fanout.publish(entries);
    for (const span of spans) span.end();

    // Plain ack, not ackAck: acks follow the fan-out on the same connection and are flushed with
    // it; a lost ack only means JetStream redelivers after ack_wait, and a redelivery is stored
    // as a duplicate and fanned out again (receivers drop it by seq). Awaiting a confirmation per
    // batch would add a round trip to every batch and buy nothing.
    for (const { index } of outcome.stored) batch[index]!.msg.ack();
    for (const index of outcome.conflicts) {
      const { message } = batch[index]!;
      log.error({ id: message.id, room: message.room, seq: message.seq }, 'seq already taken by another message; terminated');
      batch[index]!.msg.term('seq conflict');
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
      duplicates: outcome.stored.filter((s) => s.duplicate).length,
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
