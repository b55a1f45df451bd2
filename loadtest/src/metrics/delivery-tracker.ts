/** Outcome of one received `message` frame, from one receiver's point of view. */
export type DeliveryVerdict = 'new' | 'duplicate';

export interface DeliveryTotals {
  /** Messages the platform acknowledged. */
  ackedMessages: number;
  /** Deliveries owed: for each acked message, the room's member count at ack time. */
  expected: number;
  /** Deliveries of acked messages, at most `expected` per message, duplicates not counted. */
  delivered: number;
  /** expected - delivered. */
  lost: number;
  /** Acked messages that at least one member never received. */
  messagesWithLoss: number;
  /** The same message id received twice by one receiver. */
  duplicates: number;
  /** Per (receiver, room): a message whose `prev` is not the position the receiver held (a gap, or out of order). */
  orderViolations: number;
  /** Deliveries of messages that were never acked (a send that failed or timed out, yet was stored). */
  deliveriesOfUnackedMessages: number;
  /** Deliveries beyond a message's expected count (a receiver that was not counted as a member). */
  unexpectedDeliveries: number;
}

interface RoomState {
  /** Message id -> dense index within the room, assigned on first sight (ack or delivery). */
  index: Map<string, number>;
  /** Per dense index: receivers owed (set at ack), or -1 while not acked. */
  expected: number[];
  /** Per dense index: distinct receivers that got it. */
  delivered: number[];
}

interface ReceiverState {
  room: number;
  lastPos: number;
  /** Bit per room message index: seen by this receiver. One bit, so 10M deliveries cost 1.25 MB. */
  seen: Uint8Array;
}

/**
 * Loss, duplicate and order accounting across every (receiver, room) of a run. The load tester is
 * the only sender in its rooms, so every message is known: acks say what is owed, deliveries what
 * was paid. Pure bookkeeping: no I/O and no clock, tested on known inputs.
 */
export class DeliveryTracker {
  private readonly rooms: RoomState[];
  private readonly receivers: ReceiverState[] = [];
  private ackedMessages = 0;
  private expectedTotal = 0;
  private matchedTotal = 0;
  private duplicates = 0;
  private orderViolations = 0;

  constructor(roomCount: number) {
    this.rooms = Array.from({ length: roomCount }, () => ({ index: new Map(), expected: [], delivered: [] }));
  }

  /** Registers one receiver in one room; the returned slot identifies it in `onDelivery`. */
  addReceiver(room: number): number {
    this.receivers.push({ room, lastPos: -1, seen: new Uint8Array(8) });
    return this.receivers.length - 1;
  }

  /** The platform acknowledged message `id` in `room`; `members` receivers are owed it. */
  onAck(room: number, id: string, members: number): void {
    const state = this.rooms[room]!;
    const i = this.indexOf(state, id);
    if (state.expected[i]! >= 0) return; // a second ack for the same id (a retried send) owes nothing new
    state.expected[i] = members;
    this.ackedMessages++;
    this.expectedTotal += members;
    this.matchedTotal += Math.min(state.delivered[i]!, members);
  }

  onDelivery(slot: number, id: string, pos: number, prev: number): DeliveryVerdict {
    const receiver = this.receivers[slot]!;
    const state = this.rooms[receiver.room]!;
    const i = this.indexOf(state, id);
    const byte = i >> 3;
    if (byte >= receiver.seen.length) {
      const grown = new Uint8Array(Math.max(byte + 1, receiver.seen.length * 2));
      grown.set(receiver.seen);
      receiver.seen = grown;
    }
    const bit = 1 << (i & 7);
    if ((receiver.seen[byte]! & bit) !== 0) {
      this.duplicates++;
      return 'duplicate';
    }
    receiver.seen[byte]! |= bit;
    if (receiver.lastPos >= 0 && prev !== receiver.lastPos) this.orderViolations++;
    receiver.lastPos = Math.max(receiver.lastPos, pos);
    const delivered = ++state.delivered[i]!;
    const expected = state.expected[i]!;
    if (expected >= 0 && delivered <= expected) this.matchedTotal++;
    return 'new';
  }

  /** Deliveries owed so far and deliveries made of them: the drain phase waits for these to meet. */
  progress(): { expected: number; delivered: number } {
    return { expected: this.expectedTotal, delivered: this.matchedTotal };
  }

  totals(): DeliveryTotals {
    let messagesWithLoss = 0;
    let deliveriesOfUnackedMessages = 0;
    let unexpectedDeliveries = 0;
    for (const room of this.rooms) {
      room.expected.forEach((expected, i) => {
        const delivered = room.delivered[i]!;
        if (expected < 0) deliveriesOfUnackedMessages += delivered;
        else if (delivered < expected) messagesWithLoss++;
        else unexpectedDeliveries += delivered - expected;
      });
    }
    return {
      ackedMessages: this.ackedMessages,
      expected: this.expectedTotal,
      delivered: this.matchedTotal,
      lost: this.expectedTotal - this.matchedTotal,
      messagesWithLoss,
      duplicates: this.duplicates,
      orderViolations: this.orderViolations,
      deliveriesOfUnackedMessages,
      unexpectedDeliveries,
    };
  }

  private indexOf(state: RoomState, id: string): number {
    let i = state.index.get(id);
    if (i === undefined) {
      i = state.expected.length;
      state.index.set(id, i);
      state.expected.push(-1);
      state.delivered.push(0);
    }
    return i;
  }
}
