import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { consumerName, streamName } from '@chorus/shared/bus/names';

export interface TrimSettings {
  /** Written messages stay in the stream this long, for resumes and gap fill (default 24 h). */
  retainMs: number;
  /**
   * Written messages are also trimmed while the stream holds more than this share of its
   * max_bytes, so the rest stays free for a backlog the database has not taken yet (default 0.5).
   */
  writtenShare: number;
}

export const defaultTrimSettings: TrimSettings = { retainMs: 24 * 3600 * 1000, writtenShare: 0.5 };

/** What one pass did. */
export interface TrimResult {
  /** The stream's first sequence before and after the pass. */
  firstBefore: number;
  firstAfter: number;
  /** Every position up to this one is in MongoDB: no pass trims past it. */
  writtenFloor: number;
  purged: number;
}

/**
 * Removes messages from the stream, and only messages MongoDB has. The stream itself never
 * drops anything (no max_age; discard new at max_bytes: a full stream refuses publishes, which
 * senders see as `unavailable`), so this is the only way messages leave it: those at or below the
 * writer's ack floor that are older than the retain window, or, while the stream is fuller than
 * its written share, the oldest written ones. Every replica runs it (from its RetentionWatch);
 * a purge is idempotent.
 */
export class StreamTrimmer {
  private jsm: Promise<JetStreamManager> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly settings: TrimSettings,
  ) {}

  async trim(now = Date.now()): Promise<TrimResult> {
    this.jsm ??= jetstreamManager(this.nc);
    const jsm = await this.jsm;
    const [stream, consumer] = await Promise.all([jsm.streams.info(streamName), jsm.consumers.info(streamName, consumerName)]);
    const { first_seq: first, last_seq: last, bytes, messages } = stream.state;
    const writtenFloor = consumer.ack_floor.stream_seq;
    const result = { firstBefore: first, firstAfter: first, writtenFloor, purged: 0 };
    if (messages === 0 || writtenFloor < first) return result;

    // The first message younger than the retain window; everything before it may go.
    const young = await jsm.direct.getMessage(streamName, { start_time: new Date(now - this.settings.retainMs) });
    let cut = young ? young.seq : last + 1;
    const allowed = stream.config.max_bytes * this.settings.writtenShare;
    if (stream.config.max_bytes > 0 && bytes > allowed) {
      // No API maps bytes to a sequence: take the share of messages, close enough for a limit.
      cut = Math.max(cut, first + Math.ceil(((bytes - allowed) / bytes) * messages));
    }
    cut = Math.min(cut, writtenFloor + 1);
    if (cut <= first) return result;
    const { purged } = await jsm.streams.purge(streamName, { seq: cut });
    return { ...result, firstAfter: cut, purged };
  }
}
