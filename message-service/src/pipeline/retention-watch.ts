import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { streamName } from '@chorus/shared/bus/names';
import type { Logger } from '@chorus/shared/logging/logger';
import type { StreamTrimmer, TrimResult } from './stream-trimmer.js';
import type { WriterLag, WriterProgress } from './writer-progress.js';

/** What one check saw. */
export interface RetentionRisk extends WriterLag {
  /** Share of the retain window the oldest unwritten message has used (0..1+). */
  ageUsed: number;
  /** Share of max_bytes the stream holds (0..1) after the trim; at 1 it refuses publishes. */
  bytesUsed: number;
  trimmed: TrimResult;
}

/**
 * Unwritten messages never leave the stream (only the trimmer removes messages, and only written
 * ones), but a writer that stays behind fills it, and a full stream refuses every send. This
 * watch warns (a log line each interval while at risk) long before: when the oldest unwritten
 * message has used a quarter of the retain window, or the stream is 80% full. Each check trims
 * the stream first.
 */
export class RetentionWatch {
  private jsm: Promise<JetStreamManager> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly writer: WriterProgress,
    private readonly trimmer: StreamTrimmer,
    private readonly log: Logger,
    private readonly retainMs: number,
    private readonly intervalMs = 10_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.check().catch((error: unknown) => this.log.warn({ err: error }, 'retention check failed; trying again next interval')), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async check(): Promise<RetentionRisk> {
    const trimmed = await this.trimmer.trim();
    this.jsm ??= jetstreamManager(this.nc);
    const [lag, info] = await Promise.all([this.writer.lag(), (await this.jsm).streams.info(streamName)]);
    const ageUsed = lag.oldestUnwrittenMs / this.retainMs;
    const bytesUsed = info.config.max_bytes > 0 ? info.state.bytes / info.config.max_bytes : 0;
    const risk = { ...lag, ageUsed, bytesUsed, trimmed };
    if (ageUsed >= 0.25 || bytesUsed >= 0.8) {
      this.log.warn(
        { unwritten: lag.unwritten, oldestUnwrittenMs: lag.oldestUnwrittenMs, retainMs: this.retainMs, streamBytes: info.state.bytes, maxBytes: info.config.max_bytes },
        'the MongoDB writer is far behind: a full stream refuses every send if this goes on (scale message-services, check the database)',
      );
    }
    return risk;
  }
}
