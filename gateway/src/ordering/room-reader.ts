import type { HistoryResult } from '@chorus/shared/bus/payloads';
import { SingleFlight } from '@chorus/shared/concurrency/single-flight';
import type { ChatMessage } from '@chorus/shared/protocol/server-frames';
import type { RoomBroker } from './room-broker.js';

/** A complete run of a room after a position: nothing of the room lies between `after` and `messages`. */
export interface RoomRun {
  /** Ascending by pos; `prev` is not meaningful here (the receiver chains from its own position). */
  messages: ChatMessage[];
  /** The highest position this read accounted for (skipped invalid entries count). */
  cursor: number;
  /** The read reached the room's newest message at the time. */
  reachedEnd: boolean;
}

/** Older messages than the log holds: the message-service's history (MongoDB). */
export type HistoryAfter = (room: string, after: number, limit: number) => Promise<HistoryResult>;

/**
 * Reads a room after a position for catch-ups and gap fills: from the stream while it holds the
 * range, from the message-service (MongoDB, then the stream's tail) before that. Identical reads
 * in flight share one request, so a hundred clients resuming one room at once cost one read.
 */
export class RoomReader {
  private readonly inFlight = new SingleFlight<RoomRun>();

  constructor(
    private readonly broker: RoomBroker,
    private readonly historyAfter: HistoryAfter,
  ) {}

  read(room: string, after: number, limit: number): Promise<RoomRun> {
    return this.inFlight.run(`${room}/${after}/${limit}`, () => this.readOnce(room, after, limit));
  }

  private async readOnce(room: string, after: number, limit: number): Promise<RoomRun> {
    const first = await this.broker.firstPos();
    if (after + 1 >= first) {
      const { run, cursor, reachedEnd } = await this.broker.readAfter(room, after, limit);
      return {
        messages: run.map(({ pos, message }) => ({ room, pos, prev: 0, id: message.id, sender: message.sender, text: message.text, ts: message.ts })),
        cursor,
        reachedEnd,
      };
    }
    // Part of the range has left the stream: the message-service stitches MongoDB and the stream.
    const page = await this.historyAfter(room, after, limit);
    const last = page.messages.at(-1);
    return { messages: page.messages, cursor: last ? last.pos : after, reachedEnd: !page.hasMore };
  }
}
