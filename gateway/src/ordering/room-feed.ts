import type { ChatMessage } from '@chorus/shared/protocol/server-frames';
import { PreparedFrame } from '../connection/prepared-frame.js';
import type { LiveMessage } from './room-broker.js';
import type { RoomRun } from './room-reader.js';

/** A local receiver of a room's messages (one socket's membership in one room). */
export interface FeedListener {
  /** `frame` is the `message` frame (with `prev`), serialized and framed once for every receiver. */
  deliver(pos: number, prev: number, frame: PreparedFrame): void;
}

export interface RoomFeedOptions {
  /** A complete run of the room after a position (stream, or MongoDB for older ranges). */
  read: (after: number, limit: number) => Promise<RoomRun>;
  /** Messages per read while filling a gap. */
  pageSize?: number;
  /** Live copies held back behind a gap; beyond this they are dropped and read from the stream. */
  maxPending?: number;
  /** Recent messages kept for catch-ups served from memory. */
  recentLimit?: number;
  /** Pause after a failed read, doubling up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  onDelivered?: (message: ChatMessage, traceparent: string | undefined, listeners: number) => void;
  onReadFailed?: (error: unknown, attempt: number) => void;
  /** A held copy's predecessor stayed out of the stream (deleted by hand): delivery goes on past it. */
  onGapSkipped?: (cursor: number, missing: number) => void;
}

/** Reads to the stream's end that must miss a held copy's predecessor before it is passed over (about 10 s). */
const maxIdleReads = 7;

/**
 * One room's live delivery on this gateway. The stream is the authority: every live copy names
 * the room's previous position, so the feed knows at once when it missed one (a lost republish,
 * a reconnect) and reads the gap from the stream instead of waiting. It emits each position once,
 * in order, each frame carrying the previous emitted position as `prev`. Everything it holds is
 * bounded: pending copies (overflow is re-read from the stream, never a crash) and recent messages.
 */
export class RoomFeed {
  private readonly listeners = new Set<FeedListener>();
  private readonly pending = new Map<number, LiveMessage>();
  private readonly recent: ChatMessage[] = [];
  /** Live copies that arrived before the start position was known. */
  private early: LiveMessage[] | undefined = [];
  /** Highest room position accounted for (emitted or skipped as invalid). */
  private cursor = 0;
  /** Position of the last emitted message: the next frame's `prev`. */
  private lastEmitted = 0;
  private overflowed = false;
  private filling: Promise<void> | undefined;
  private refill = false;
  private closed = false;
  private readonly pageSize: number;
  private readonly maxPending: number;
  private readonly recentLimit: number;

  constructor(
    readonly room: string,
    private readonly options: RoomFeedOptions,
  ) {
    this.pageSize = options.pageSize ?? 500;
    this.maxPending = options.maxPending ?? 2_000;
    this.recentLimit = options.recentLimit ?? 256;
  }

  /** Starts after `head` (the room's newest position when the feed opened); early live copies follow. */
  start(head: number): void {
    this.cursor = head;
    this.lastEmitted = head;
    const early = this.early ?? [];
    this.early = undefined;
    for (const live of early) this.onLive(live);
    if (this.overflowed) {
      this.overflowed = false;
      this.fill(); // copies were dropped before the start: they are in the stream
    }
  }

  /** Position of the newest message delivered here. */
  get head(): number {
    return this.lastEmitted;
  }
  get pendingCount(): number {
    return this.pending.size;
  }
  add(listener: FeedListener): void {
    this.listeners.add(listener);
  }
  remove(listener: FeedListener): void {
    this.listeners.delete(listener);
  }

  onLive(live: LiveMessage): void {
    if (this.closed) return;
    if (this.early) {
      if (this.early.length < this.maxPending) this.early.push(live);
      else this.overflowed = true;
      return;
    }
    if (live.pos <= this.cursor) return; // already emitted (a copy of a read)
    if (live.lastPos <= this.cursor && !this.filling) {
      this.emit(chatOf(live), live.traceparent);
      this.cursor = live.pos;
      if (this.pending.size > 0) this.drainPending();
      return;
    }
    // The room's previous message has not been seen here: hold this one, read the gap.
    // Beyond the bound a copy is dropped: the running fill reads it from the stream.
    if (this.pending.size < this.maxPending) this.pending.set(live.pos, live);
    this.fill();
  }

  /**
   * The stream's newest position for the room (a periodic audit, or after a reconnect): when it is
   * past what was delivered here, the tail's live copies were lost; read them.
   */
  audit(streamHead: number): void {
    if (!this.closed && !this.early && streamHead > this.cursor) this.fill();
  }

  /** Reads whatever the stream has past the cursor (live copies may have been lost). */
  resync(): void {
    if (!this.closed && !this.early) this.fill();
  }

  /**
   * The recent messages after `after`, when memory holds all of them (so a catch-up needs no
   * read); undefined when it does not.
   */
  recentAfter(after: number): ChatMessage[] | undefined {
    if (after >= this.lastEmitted) return after === this.lastEmitted ? [] : undefined;
    const oldest = this.recent[0];
    if (!oldest || after < oldest.prev) return undefined;
    let i = this.recent.length;
    while (i > 0 && this.recent[i - 1]!.pos > after) i--;
    return this.recent.slice(i);
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
    this.pending.clear();
    this.recent.length = 0;
  }

  /** Resolves when no gap is being filled (tests). */
  async settled(): Promise<void> {
    while (this.filling) await this.filling;
  }

  private fill(): void {
    if (this.filling) {
      this.refill = true;
      return;
    }
    this.filling = this.fillLoop().finally(() => {
      this.filling = undefined;
      // Asked again while reading (an audit, a resync, a copy past the read): read once more.
      if (this.refill && !this.closed) {
        this.refill = false;
        this.fill();
      }
    });
  }

  private async fillLoop(): Promise<void> {
    let failures = 0;
    let idleReads = 0;
    while (!this.closed) {
      let run: RoomRun;
      try {
        run = await this.options.read(this.cursor, this.pageSize);
        failures = 0;
      } catch (error) {
        failures++;
        this.options.onReadFailed?.(error, failures);
        await this.pause(failures);
        continue;
      }
      if (this.closed) return;
      const before = this.cursor;
      for (const message of run.messages) {
        if (message.pos <= this.cursor) continue;
        const held = this.pending.get(message.pos);
        this.emit(message, held?.traceparent);
        this.cursor = message.pos;
      }
      this.cursor = Math.max(this.cursor, run.cursor);
      this.drainPending();
      if (!run.reachedEnd) continue;
      if (this.pending.size === 0) return;
      // A held copy's predecessor was not in the read: stored after it, or not yet on the replica
      // that answered. Read again; only a predecessor that stays missing is passed over.
      idleReads = this.cursor > before ? 0 : idleReads + 1;
      if (idleReads < maxIdleReads) {
        await this.pause(idleReads);
        continue;
      }
      const lowest = Math.min(...this.pending.keys());
      const missing = this.pending.get(lowest)!.lastPos;
      this.options.onGapSkipped?.(this.cursor, missing);
      this.cursor = Math.max(this.cursor, missing);
      this.drainPending();
      idleReads = 0;
      if (this.pending.size === 0) return;
    }
  }

  private pause(attempt: number): Promise<void> {
    const base = this.options.retryMs ?? 250;
    return new Promise((resolve) => setTimeout(resolve, Math.min(this.options.maxRetryMs ?? 2_000, base * 2 ** (attempt - 1))));
  }

  /** Emits held copies that now follow the cursor, and forgets the ones already emitted. */
  private drainPending(): void {
    let progressed = true;
    while (progressed && this.pending.size > 0) {
      progressed = false;
      for (const [pos, live] of this.pending) {
        if (pos <= this.cursor) {
          this.pending.delete(pos);
          progressed = true;
        } else if (live.lastPos <= this.cursor) {
          this.pending.delete(pos);
          this.emit(chatOf(live), live.traceparent);
          this.cursor = pos;
          progressed = true;
        }
      }
    }
  }

  private emit(message: ChatMessage, traceparent: string | undefined): void {
    const prev = this.lastEmitted;
    const chat: ChatMessage = { room: message.room, pos: message.pos, prev, id: message.id, sender: message.sender, text: message.text, ts: message.ts };
    this.lastEmitted = chat.pos;
    this.recent.push(chat);
    if (this.recent.length > this.recentLimit) this.recent.shift();
    const frame = new PreparedFrame(JSON.stringify({ type: 'message', ...chat }));
    for (const listener of this.listeners) listener.deliver(chat.pos, prev, frame);
    this.options.onDelivered?.(chat, traceparent, this.listeners.size);
  }
}

function chatOf(live: LiveMessage): ChatMessage {
  const { message } = live;
  return { room: message.room, pos: live.pos, prev: live.lastPos, id: message.id, sender: message.sender, text: message.text, ts: message.ts };
}
