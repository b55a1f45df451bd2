/**
 * The exact account of a chaos run, independent of the protocol version: messages have a position
 * `pos` in their room and the position `prev` of the message before them.
 *
 * - Owed: every acked message is owed exactly once to every member of its room, in room order.
 * - Lost: owed, and not delivered to some member by the end.
 * - Duplicated: the same message id delivered twice to one member.
 * - Reordered: a delivery whose pos is not above the last one the member holds in the room, or
 *   whose prev is not that last position (the member missed something in between). The member
 *   drops it, as a client must, and resumes the room after the last position it holds; until that
 *   resume is answered, further deliveries that do not fit are dropped without counting again.
 * - Stall: the longest time one member went without a new delivery in a room while it was owed
 *   messages there.
 */
export interface LedgerCounts {
  /** Distinct messages acked to their senders. */
  acked: number;
  /** (member, message) pairs owed: each acked message times the members of its room. */
  owed: number;
  /** Distinct (member, message) deliveries. */
  delivered: number;
  /** Owed and not delivered yet (at the end: lost). */
  outstanding: number;
  duplicated: number;
  reordered: number;
  /** Acks of one message with two different positions, or a delivery at another pos than its ack. */
  positionConflicts: number;
  /** Deliveries to a user in a room the ledger does not count it a member of. */
  unexpected: number;
  /** Longest stall so far and where. */
  stallMs: number;
  stallRoom: string | undefined;
}

export interface LedgerReport extends LedgerCounts {
  /** Distinct acked messages that some member never got. */
  lostMessages: number;
  /** (member, message) pairs never delivered. */
  lost: number;
  /** Delivered to someone before the sender had the ack (and acked later: allowed, e.g. a resend). */
  deliveredBeforeAck: number;
  /** Delivered, but the sender never got an ack for it. */
  deliveredNeverAcked: number;
  /** The first few problems, one line each, for the report. */
  samples: string[];
}

interface MessageRecord {
  room: string;
  sender: string;
  ackedPos: number | undefined;
  ackedAt: number | undefined;
  firstDeliveredAt: number | undefined;
  /** Its first delivery came before the sender had the ack. */
  deliveredBeforeAck: boolean;
}

interface Holding {
  member: string;
  room: string;
  /** The highest position this member holds in the room. */
  last: number;
  seen: Set<string>;
  /** Acked ids not delivered yet. */
  owed: Set<string>;
  /** Since when the member has been owed something without a new delivery. */
  waitingSince: number | undefined;
  /** Saw a delivery out of order; waiting for the resume that repairs the stream. */
  broken: boolean;
}

/** What the member does with a delivery: keep it, or drop it (and, when out of order, resume the room). */
export type DeliveryOutcome = 'kept' | 'duplicate' | 'out-of-order';

export interface LedgerOptions {
  /** Refuse to track more messages than this (the run's bound on sends, with room to spare). */
  maxMessages: number;
  now?: () => number;
  maxSamples?: number;
}

export class DeliveryLedger {
  private readonly messages = new Map<string, MessageRecord>();
  private readonly holdings = new Map<string, Holding>();
  private readonly roomMembers = new Map<string, Holding[]>();
  private readonly samples: string[] = [];
  private readonly now: () => number;
  private readonly counts = {
    owed: 0,
    delivered: 0,
    outstanding: 0,
    duplicated: 0,
    reordered: 0,
    positionConflicts: 0,
    unexpected: 0,
    acked: 0,
  };
  private stall = { ms: 0, room: undefined as string | undefined };

  constructor(private readonly options: LedgerOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  /** `member` is in `room` and holds everything up to `heldPos` (the head its first join reported). */
  addMember(room: string, member: string, heldPos: number): void {
    const key = holdingKey(member, room);
    if (this.holdings.has(key)) throw new Error(`${member} is already a member of ${room}`);
    const holding: Holding = { member, room, last: heldPos, seen: new Set(), owed: new Set(), waitingSince: undefined, broken: false };
    this.holdings.set(key, holding);
    const members = this.roomMembers.get(room) ?? [];
    members.push(holding);
    this.roomMembers.set(room, members);
  }

  /** The last position `member` holds in `room`: what it resumes after. */
  lastHeld(member: string, room: string): number {
    const holding = this.holdings.get(holdingKey(member, room));
    if (!holding) throw new Error(`${member} is not a member of ${room}`);
    return holding.last;
  }

  /** The sender got an ack for message `id` at `pos`. Repeated acks (resends) are checked, not counted. */
  acked(room: string, sender: string, id: string, pos: number): void {
    const now = this.now();
    const record = this.record(id, room, sender);
    if (record.ackedPos !== undefined) {
      if (record.ackedPos !== pos) this.conflict(`${id} in ${room} acked at pos ${record.ackedPos} and again at ${pos}`);
      return;
    }
    record.ackedPos = pos;
    record.ackedAt = now;
    this.counts.acked++;
    for (const holding of this.roomMembers.get(room) ?? []) {
      this.counts.owed++;
      if (holding.seen.has(id)) continue;
      holding.owed.add(id);
      this.counts.outstanding++;
      holding.waitingSince ??= now;
    }
  }

  /** `member` received message `id` of `room` at `pos`, with `prev` as the position before it. */
  delivered(member: string, room: string, id: string, sender: string, pos: number, prev: number): DeliveryOutcome {
    const now = this.now();
    const holding = this.holdings.get(holdingKey(member, room));
    if (!holding) {
      this.counts.unexpected++;
      this.sample(`${member} got ${id} of ${room}, a room it is not a member of`);
      return 'duplicate';
    }
    if (holding.seen.has(id)) {
      this.counts.duplicated++;
      this.sample(`${member} got ${id} (pos ${pos}) of ${room} a second time`);
      return 'duplicate';
    }
    if (pos <= holding.last || prev !== holding.last) {
      if (!holding.broken) {
        holding.broken = true;
        this.counts.reordered++;
        this.sample(
          pos <= holding.last
            ? `${member} got pos ${pos} of ${room} after pos ${holding.last}`
            : `${member} got pos ${pos} of ${room} with prev ${prev}, but held ${holding.last}`,
        );
      }
      return 'out-of-order';
    }
    const record = this.record(id, room, sender);
    if (record.firstDeliveredAt === undefined) {
      record.firstDeliveredAt = now;
      record.deliveredBeforeAck = record.ackedAt === undefined;
    }
    if (record.ackedPos !== undefined && record.ackedPos !== pos) {
      this.conflict(`${member} got ${id} of ${room} at pos ${pos}, acked at ${record.ackedPos}`);
    }
    holding.seen.add(id);
    holding.last = pos;
    this.counts.delivered++;
    if (holding.owed.delete(id)) this.counts.outstanding--;
    if (holding.waitingSince !== undefined) this.noteStall(holding, now);
    holding.waitingSince = holding.owed.size > 0 ? now : undefined;
    return 'kept';
  }

  /** The member's resume of `room` was answered: what follows starts after its last position again. */
  resumed(member: string, room: string): void {
    const holding = this.holdings.get(holdingKey(member, room));
    if (holding) holding.broken = false;
  }

  /** Counts the stalls still open now (call it periodically and at the end). */
  observe(): void {
    const now = this.now();
    for (const holding of this.holdings.values()) if (holding.waitingSince !== undefined) this.noteStall(holding, now);
  }

  snapshot(): LedgerCounts {
    return { ...this.counts, stallMs: this.stall.ms, stallRoom: this.stall.room };
  }

  /** The final account: everything still owed now is lost. */
  report(): LedgerReport {
    this.observe();
    const lostIds = new Set<string>();
    for (const holding of this.holdings.values()) {
      for (const id of holding.owed) {
        if (lostIds.has(id)) continue;
        lostIds.add(id);
        if (lostIds.size <= 5) this.sample(`lost: ${holding.member} (and maybe others) never got pos ${this.messages.get(id)?.ackedPos} of ${holding.room} (${id})`);
      }
    }
    let deliveredBeforeAck = 0;
    let deliveredNeverAcked = 0;
    for (const [id, record] of this.messages) {
      if (record.firstDeliveredAt === undefined) continue;
      if (record.ackedAt === undefined) {
        deliveredNeverAcked++;
        if (deliveredNeverAcked <= 3) this.sample(`delivered, never acked: ${id} from ${record.sender} in ${record.room}`);
      } else if (record.deliveredBeforeAck) deliveredBeforeAck++;
    }
    return {
      ...this.snapshot(),
      lost: this.counts.outstanding,
      lostMessages: lostIds.size,
      deliveredBeforeAck,
      deliveredNeverAcked,
      samples: [...this.samples],
    };
  }

  private record(id: string, room: string, sender: string): MessageRecord {
    let record = this.messages.get(id);
    if (!record) {
      if (this.messages.size >= this.options.maxMessages) throw new Error(`the ledger is full (${this.options.maxMessages} messages)`);
      record = { room, sender, ackedPos: undefined, ackedAt: undefined, firstDeliveredAt: undefined, deliveredBeforeAck: false };
      this.messages.set(id, record);
    } else if (record.room !== room) {
      this.conflict(`${id} seen in ${record.room} and in ${room}`);
    }
    return record;
  }

  private noteStall(holding: Holding, now: number): void {
    const ms = now - (holding.waitingSince ?? now);
    if (ms > this.stall.ms) this.stall = { ms, room: holding.room };
  }

  private conflict(line: string): void {
    this.counts.positionConflicts++;
    this.sample(line);
  }

  private sample(line: string): void {
    if (this.samples.length < (this.options.maxSamples ?? 20)) this.samples.push(line);
  }
}

const holdingKey = (member: string, room: string) => `${member}\0${room}`;
