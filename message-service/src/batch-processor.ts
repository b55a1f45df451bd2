import type { Logger } from '@chorus/shared/logging/logger';
import type { BatchWriter } from './batch-writer.js';
import type { FanoutEntry, FanoutPublisher } from './fanout-publisher.js';
import type { InboundMessage } from './inbound-message.js';
import type { StatsCollector } from './stats.js';
import { BatchTrace } from './batch-tracing.js';

export interface BatchProcessorOptions {
  writer: BatchWriter;
  fanout: FanoutPublisher;
  stats: StatsCollector;
  log: Logger;
  /** Called after each batch (tests observe batch sizes with it). */
  onBatch?: ((info: { size: number; processed: number; durationMs: number }) => void) | undefined;
}

const maxRetryPauseMs = 5_000;

/**
 * Runs batches one after another: insertMany, then fan-out, then ack. One batch at a time per
 * replica keeps a replica's fan-out of a room in seq order; the next batch is collected while the
 * current one is written, and throughput scales with replicas and batch size.
 */
export class BatchProcessor {
  private readonly queue: InboundMessage[][] = [];
  private running = false;
  private waiters: (() => void)[] = [];
  private retryPauseMs = 0;
  private closing = false;

  constructor(private readonly options: BatchProcessorOptions) {}

  /** True from a failed database write until the next successful one (readiness). */
  get failing(): boolean {
    return this.retryPauseMs > 0;
  }

  /** Batches queued or being written. */
  get backlog(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  enqueue(batch: InboundMessage[]): void {
    if (batch.length === 0) return;
    this.queue.push(batch);
    if (!this.running) void this.drain();
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
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.shift()!;
        const ok = await this.process(batch).catch((error: unknown) => {
          this.options.log.error({ err: error }, 'batch processing failed');
          for (const item of batch) nakQuietly(item);
          return false;
        });
        this.notify();
        // While the database fails, wait before the next batch instead of spinning through the
        // queue; the buffered messages stay unacked and are redelivered if this takes too long.
        if (ok) this.retryPauseMs = 0;
        else if (!this.closing) {
          this.retryPauseMs = Math.min(maxRetryPauseMs, Math.max(250, this.retryPauseMs * 2));
          await new Promise((r) => setTimeout(r, this.retryPauseMs));
        }
      }
    } finally {
      this.running = false;
      this.notify();
    }
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  /** Returns false when the write failed (some messages were nak'ed). */
  private async process(batch: InboundMessage[]): Promise<boolean> {
    const { writer, fanout, stats, log } = this.options;
    const startedAt = Date.now();
    const started = performance.now();
    const tracing = new BatchTrace(
      batch.map((item) => ({ headers: item.msg.headers, ts: item.message.ts, pulledAt: item.pulledAt })),
      startedAt,
    );

    const outcome = await writer.write(batch.map((item) => item.message));
    tracing.insert(startedAt, Date.now(), outcome.failed.length > 0 ? outcome.error : undefined);

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
      log.warn({ err: outcome.error, failed: outcome.failed.length, size: batch.length }, 'batch write failed; messages nak\'ed for redelivery');
    }

    const status: ('acked' | 'nak' | 'term')[] = new Array(batch.length).fill('acked');
    for (const index of outcome.conflicts) status[index] = 'term';
    for (const index of outcome.failed) status[index] = 'nak';
    const duplicates = outcome.stored.filter((s) => s.duplicate).length;
    tracing.end((i) => status[i]!, { 'batch.stored': outcome.stored.length, 'batch.failed': outcome.failed.length });

    const durationMs = performance.now() - started;
    stats.recordBatch({
      size: batch.length,
      processed: outcome.stored.length,
      duplicates,
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
  item.msg.nak(Math.min(30_000, 500 * 2 ** Math.min(6, attempts - 1)));
}
