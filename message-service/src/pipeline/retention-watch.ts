import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { streamName } from '@chorus/shared/bus/names';
import type { Logger } from '@chorus/shared/logging/logger';
import type { WriterLag, WriterProgress } from './writer-progress.js';

/** What one check saw. */
export interface RetentionRisk extends WriterLag {
  /** Share of the stream's max_age the oldest unwritten message has used (0..1+). */
  ageUsed: number;
  /** Share of max_bytes the stream holds (0..1+), counting only when most of it is unwritten. */
  bytesUsed: number;
}

/**
 * The stream removes messages by age and size whether or not MongoDB has them. This watch warns
 * (a log line each interval while at risk) long before that can happen: when the oldest unwritten
 * message has used a quarter of max_age, or the stream is 80% full while half of it is unwritten.
 */
export class RetentionWatch {
  private jsm: Promise<JetStreamManager> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly writer: WriterProgress,
    private readonly log: Logger,
    private readonly intervalMs = 10_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.check().catch(() => {}), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async check(): Promise<RetentionRisk> {
    this.jsm ??= jetstreamManager(this.nc);
    const [lag, info] = await Promise.all([this.writer.lag(), (await this.jsm).streams.info(streamName)]);
    const maxAgeMs = info.config.max_age / 1e6;
    const ageUsed = maxAgeMs > 0 ? lag.oldestUnwrittenMs / maxAgeMs : 0;
    const unwrittenShare = info.state.messages > 0 ? lag.unwritten / info.state.messages : 0;
    const bytesUsed = info.config.max_bytes > 0 && unwrittenShare >= 0.5 ? info.state.bytes / info.config.max_bytes : 0;
    const risk = { ...lag, ageUsed, bytesUsed };
    if (ageUsed >= 0.25 || bytesUsed >= 0.8) {
      this.log.warn(
        { unwritten: lag.unwritten, oldestUnwrittenMs: lag.oldestUnwrittenMs, maxAgeMs, streamBytes: info.state.bytes, maxBytes: info.config.max_bytes },
        'the MongoDB writer is far behind: unwritten messages will leave the stream if this goes on (scale message-services, check the database)',
      );
    }
    return risk;
  }
}
