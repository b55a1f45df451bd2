import type { ChatMessage } from '@chorus/shared/protocol/server-frames';
import type { PreparedFrame } from '../connection/prepared-frame.js';
import type { FeedListener } from './room-feed.js';
import type { RoomRun } from './room-reader.js';

/** The frames a socket can be sent, already serialized (a prepared frame is shared by many sockets). */
export interface FrameSink {
  sendRaw(frame: string | PreparedFrame): void;
}

export interface CatchUpSource {
  /** Recent messages after a position from memory, or undefined when memory does not hold them all. */
  recentAfter(after: number): ChatMessage[] | undefined;
  read(after: number, limit: number): Promise<RoomRun>;
}

/** Live frames held while a catch-up reads; past this the catch-up reads once more instead. */
const maxQueued = 1_000;
const pageSize = 500;
/** Reads that must miss a queued frame's predecessor before the socket is told to resync (about 1 s). */
const maxIdleReads = 5;

/**
 * One socket's membership in one room. It tracks the last position the socket was sent and only
 * ever sends a message whose `prev` is that position (a catch-up chains its first message from the
 * position the client resumed after), so the socket sees one gapless, ordered run. While it
 * catches up, live frames wait in a bounded queue and follow the read. A live frame that does not
 * follow (which the feed's order should rule out) sends it back to catching up, never past a gap.
 */
export class RoomAttachment implements FeedListener {
  private lastSent = 0;
  /** Live frames held while not live: before startAt, and while catching up. */
  private queue: [pos: number, prev: number, frame: PreparedFrame][] | undefined = [];
  private overflowed = false;
  private stopped = false;
  private catching: Promise<void> | undefined;

  constructor(
    readonly room: string,
    private readonly sink: FrameSink,
    private readonly source: CatchUpSource,
    private readonly onCatchUpFailed: (attachment: RoomAttachment, error: unknown) => void,
  ) {}

  /**
   * Sets where the socket starts, once the room's feed is open: after `after` (a resume, which then
   * needs catchUp()), or at the feed's head (live messages from now on).
   */
  startAt(after: number | undefined, liveHead: number): void {
    this.lastSent = after ?? liveHead;
    if (after !== undefined && after !== liveHead) return; // catching up: catchUp() flushes the queue
    const queued = this.queue ?? [];
    this.queue = undefined;
    for (const [pos, prev, frame] of queued) this.deliver(pos, prev, frame);
  }

  /** The last position this socket was sent. */
  get position(): number {
    return this.lastSent;
  }

  get catchingUp(): boolean {
    return this.queue !== undefined;
  }

  deliver(pos: number, prev: number, frame: PreparedFrame): void {
    if (this.stopped || pos <= this.lastSent) return;
    if (this.queue) {
      if (this.queue.length < maxQueued) this.queue.push([pos, prev, frame]);
      else this.overflowed = true;
      return;
    }
    if (prev !== this.lastSent) {
      // Something between lastSent and this frame was not sent here: read it rather than skip it.
      this.queue = [[pos, prev, frame]];
      void this.catchUp();
      return;
    }
    this.lastSent = pos;
    this.sink.sendRaw(frame);
  }

  /** Any other frame about the room (presence pushes). */
  sendRaw(frame: string | PreparedFrame): void {
    if (!this.stopped) this.sink.sendRaw(frame);
  }

  /** Stops all delivery to this socket (left the room, or a catch-up failed). */
  stop(): void {
    this.stopped = true;
    this.queue = undefined;
  }

  /** Sends what the socket missed after its position, then the live frames that arrived meanwhile. */
  catchUp(): Promise<void> {
    this.catching ??= this.catchUpLoop().finally(() => (this.catching = undefined));
    return this.catching;
  }

  private async catchUpLoop(): Promise<void> {
    // After a gap in the queue, memory cannot help (the feed has not emitted what is missing).
    let fromStream = false;
    let idleReads = 0;
    while (this.queue && !this.stopped) {
      const fromMemory = fromStream ? undefined : this.source.recentAfter(this.lastSent);
      let progressed = false;
      if (fromMemory) {
        for (const message of fromMemory) progressed = this.sendChained(message) || progressed;
      } else {
        let run: RoomRun;
        try {
          run = await this.source.read(this.lastSent, pageSize);
        } catch (error) {
          return this.fail(error);
        }
        if (this.stopped) return;
        for (const message of run.messages) progressed = this.sendChained(message) || progressed;
        if (!run.reachedEnd) continue;
      }
      // Synchronously from here: flush the queue and go live, or read again.
      if (this.overflowed) {
        this.overflowed = false;
        this.queue = [];
        fromStream = false;
        continue;
      }
      const queued = this.queue;
      let i = 0;
      for (; i < queued.length; i++) {
        const [pos, prev, frame] = queued[i]!;
        if (pos <= this.lastSent) continue;
        if (prev > this.lastSent) break; // stored after our read ended and before this frame: read on
        this.lastSent = pos;
        this.sink.sendRaw(frame);
        progressed = true;
      }
      if (i === queued.length) {
        this.queue = undefined;
        return;
      }
      this.queue = queued.slice(i);
      if (fromStream && !progressed) {
        // The stream, read to its end, does not have the queued frame's predecessor (yet: the
        // replica that answered may lag). Read again a few times, then let the client resync.
        if (++idleReads > maxIdleReads) return this.fail(new Error(`position ${this.queue[0]![1]} is not in the stream`));
        await new Promise((resolve) => setTimeout(resolve, 50 * idleReads));
      } else {
        idleReads = 0;
      }
      fromStream = true;
    }
  }

  private fail(error: unknown): void {
    if (this.stopped) return;
    this.stop();
    this.onCatchUpFailed(this, error);
  }

  /** Sends a read message chained from the held position; false when the socket has it already. */
  private sendChained(message: ChatMessage): boolean {
    if (message.pos <= this.lastSent) return false;
    const { room, pos, id, sender, text, ts } = message;
    this.sink.sendRaw(JSON.stringify({ type: 'message', room, pos, prev: this.lastSent, id, sender, text, ts }));
    this.lastSent = pos;
    return true;
  }
}
