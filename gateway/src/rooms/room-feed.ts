import type { ChatMessage } from '@chorus/shared/protocol/server-frames';

// Out-of-order arrival (two replicas' batches crossing) heals by itself within a batch time; a
// history read is only for a fan-out this gateway really missed, and it is not cheap.
const defaultGapCheckMs = 1_500;
const defaultGapSkipMs = 5 * 60_000;

/** A local receiver of a room's messages (one socket's membership in one room). */
export interface FeedListener {
  /** `frame` is the serialized `message` frame, built once for every receiver. */
  deliver(seq: number, frame: string): void;
}

export interface RoomFeedOptions {
  /** Stored messages with seq > after, ascending (the history RPC). */
  fetchAfter: (after: number) => Promise<ChatMessage[]>;
  /** How long an out-of-order message waits before the gap is looked up in history. */
  gapCheckMs?: number;
  /**
   * How long a gap may hold the room before it is skipped as a seq that will never be stored.
   * An acked message always arrives in the end (it is durable in JetStream), however deep the
   * backlog after an overload or a crashed worker's ack_wait; a seq that never arrives was never
   * acked. So the wait is long: a skip must only ever pass over such a number.
   */
  gapSkipMs?: number;
  onGapSkipped?: (from: number, to: number) => void;
  onDelivered?: (message: ChatMessage & { traceparent?: string | undefined }, listeners: number) => void;
}

/**
 * Puts one room's fan-out back into seq order for this gateway's sockets. Two message-service
 * replicas may publish neighbouring batches in either order, and a redelivered batch repeats
 * messages: the feed emits each seq exactly once, in order, and fills a gap from history when the
 * missing message was published while this gateway was not listening.
 */
export class RoomFeed {
  private readonly pending = new Map<number, ChatMessage & { traceparent?: string | undefined }>();
  private readonly listeners = new Set<FeedListener>();
  private gapSince: number | undefined;
  private gapTimer: NodeJS.Timeout | undefined;
  private filling = false;

  constructor(
    readonly room: string,
    /** The last seq delivered (or known delivered) to this gateway's listeners. */
    private headSeq: number,
    private readonly options: RoomFeedOptions,
  ) {}

  get head(): number {
    return this.headSeq;
  }
  get size(): number {
    return this.listeners.size;
  }
  add(listener: FeedListener): void {
    this.listeners.add(listener);
  }
  remove(listener: FeedListener): void {
    this.listeners.delete(listener);
  }

  /** Messages from a fan-out batch or a history fill, in any order, possibly repeated. */
  push(messages: readonly (ChatMessage & { traceparent?: string | undefined })[]): void {
    for (const message of messages) {
      if (message.seq > this.headSeq && !this.pending.has(message.seq)) this.pending.set(message.seq, message);
    }
    this.drain();
  }

  close(): void {
    clearTimeout(this.gapTimer);
    this.listeners.clear();
    this.pending.clear();
  }

  private drain(): void {
    for (let next = this.pending.get(this.headSeq + 1); next; next = this.pending.get(this.headSeq + 1)) {
      this.pending.delete(next.seq);
      this.headSeq = next.seq;
      this.emit(next);
    }
    if (this.pending.size === 0) {
      this.gapSince = undefined;
      clearTimeout(this.gapTimer);
      this.gapTimer = undefined;
      return;
    }
    this.gapSince ??= Date.now();
    this.gapTimer ??= setTimeout(() => void this.fillGap(), this.options.gapCheckMs ?? defaultGapCheckMs);
  }

  private async fillGap(): Promise<void> {
    this.gapTimer = undefined;
    if (this.filling || this.pending.size === 0) return;
    this.filling = true;
    try {
      this.push(await this.options.fetchAfter(this.headSeq));
    } catch {
      // History unavailable: keep waiting; the skip below bounds how long.
    } finally {
      this.filling = false;
    }
    if (this.pending.size === 0) return;
    if (Date.now() - (this.gapSince ?? Date.now()) >= (this.options.gapSkipMs ?? defaultGapSkipMs)) {
      const lowest = Math.min(...this.pending.keys());
      this.options.onGapSkipped?.(this.headSeq + 1, lowest - 1);
      this.headSeq = lowest - 1;
      this.gapSince = undefined;
      this.drain();
      return;
    }
    this.gapTimer ??= setTimeout(() => void this.fillGap(), this.options.gapCheckMs ?? defaultGapCheckMs);
  }

  private emit(message: ChatMessage & { traceparent?: string | undefined }): void {
    const { room, seq, id, sender, text, ts } = message;
    const frame = JSON.stringify({ type: 'message', room, seq, id, sender, text, ts });
    for (const listener of this.listeners) listener.deliver(seq, frame);
    this.options.onDelivered?.(message, this.listeners.size);
  }
}
