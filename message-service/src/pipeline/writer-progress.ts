import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { consumerName, streamName, subjects } from '@chorus/shared/bus/names';
import { RecentValue } from '@chorus/shared/concurrency/recent-value';

/** How far the MongoDB writer is behind the stream. */
export interface WriterLag {
  /**
   * Every position up to this one is in MongoDB (the writer consumer's ack floor). Only the
   * trimmer removes messages from the stream, never past this floor, so the floor never jumps
   * over messages that were not written (unless someone purges the stream by hand).
   */
  floor: number;
  /** Messages in the stream not yet written (pending + being written). */
  unwritten: number;
  /** Age of the oldest unwritten message (0 when none). */
  oldestUnwrittenMs: number;
}

/**
 * Reads the writer's progress from its durable consumer (cached briefly, one look-up at a time):
 * history reads take positions up to the floor from MongoDB and the rest from the stream, and
 * resend look-ups refuse to answer "never stored" when the writer is further behind than the
 * stream's duplicate window.
 */
export class WriterProgress {
  private jsm: Promise<JetStreamManager> | undefined;
  private readonly recent: RecentValue<WriterLag>;

  constructor(
    private readonly nc: NatsConnection,
    maxAgeMs = 500,
  ) {
    this.recent = new RecentValue(maxAgeMs, () => this.read());
  }

  lag(): Promise<WriterLag> {
    return this.recent.get();
  }

  private async read(): Promise<WriterLag> {
    this.jsm ??= jetstreamManager(this.nc);
    const jsm = await this.jsm;
    const info = await jsm.consumers.info(streamName, consumerName);
    const floor = info.ack_floor.stream_seq;
    const unwritten = info.num_pending + info.num_ack_pending;
    let oldestUnwrittenMs = 0;
    if (unwritten > 0) {
      const oldest = await jsm.direct.getMessage(streamName, { seq: floor + 1, next_by_subj: subjects.inboundAll });
      if (oldest) oldestUnwrittenMs = Math.max(0, Date.now() - oldest.time.getTime());
    }
    return { floor, unwritten, oldestUnwrittenMs };
  }
}
