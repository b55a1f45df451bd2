import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { consumerName, streamName, subjects } from '@chorus/shared/bus/names';
import { SingleFlight } from '@chorus/shared/concurrency/single-flight';

/** How far the MongoDB writer is behind the stream. */
export interface WriterLag {
  /**
   * Every position up to this one is in MongoDB (the writer consumer's ack floor) — unless the
   * stream removed messages before they were written, which moves the floor past them too (the
   * retention watch warns long before; see docs/architecture.md "Retention").
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
  private cached: { lag: WriterLag; at: number } | undefined;
  private readonly reads = new SingleFlight<WriterLag>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly maxAgeMs = 500,
  ) {}

  async lag(): Promise<WriterLag> {
    const cached = this.cached;
    if (cached && Date.now() - cached.at < this.maxAgeMs) return cached.lag;
    return this.reads.run('lag', async () => {
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
      const lag = { floor, unwritten, oldestUnwrittenMs };
      this.cached = { lag, at: Date.now() };
      return lag;
    });
  }
}
