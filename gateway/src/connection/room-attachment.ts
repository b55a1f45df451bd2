import type { ChatMessage } from '@chorus/shared/protocol/server-frames';
import type { RoomListener } from '../rooms/room-hub.js';

/** The frames a socket can be sent, already serialized. */
export interface FrameSink {
  sendRaw(frame: string): void;
}

/**
 * One socket's presence in one room. Live messages pass straight through, each seq at most once;
 * while the socket catches up on what it missed (join with afterSeq), live messages wait in a
 * queue and follow the history, so the socket sees one gapless, ordered stream.
 */
export class RoomAttachment implements RoomListener {
  private lastSent: number;
  private queue: [number, string][] | undefined;

  constructor(
    readonly room: string,
    private readonly sink: FrameSink,
    /** Resume point: the last seq the client has; undefined = live messages only. */
    afterSeq: number | undefined,
  ) {
    this.lastSent = afterSeq ?? 0;
    if (afterSeq !== undefined) this.queue = [];
  }

  deliver(seq: number, frame: string): void {
    if (this.queue) this.queue.push([seq, frame]);
    else this.send(seq, frame);
  }

  sendRaw(frame: string): void {
    this.sink.sendRaw(frame);
  }

  /** Sends the stored messages after the resume point, then what arrived live meanwhile. */
  async catchUp(fetchAfter: (after: number) => Promise<{ messages: ChatMessage[]; hasMore: boolean }>): Promise<void> {
    if (!this.queue) return;
    try {
      for (;;) {
        const page = await fetchAfter(this.lastSent);
        for (const message of page.messages) this.send(message.seq, JSON.stringify({ type: 'message', ...message }));
        if (!page.hasMore || page.messages.length === 0) break;
      }
    } finally {
      const queued = this.queue;
      this.queue = undefined;
      for (const [seq, frame] of queued) this.send(seq, frame);
    }
  }

  private send(seq: number, frame: string): void {
    if (seq <= this.lastSent) return;
    this.lastSent = seq;
    this.sink.sendRaw(frame);
  }
}
