import { MongoBulkWriteError, type Collection } from 'mongodb';
import type { PositionedMessage } from '@chorus/shared/bus/payloads';
import type { MessageDoc } from '../storage/collections.js';

const duplicateKey = 11000;

/** What became of each message of a batch, by its index in the batch. */
export interface WriteOutcome {
  /** Stored now, or stored before at the same position (a redelivery). */
  stored: { index: number; redelivered: boolean }[];
  /**
   * Its id is stored at another position: the same (sender, clientMsgId) was published again after
   * JetStream's duplicate window without `resend`. Stored too, as a later copy (see MessageDoc).
   */
  lateDuplicates: number[];
  /** Its position belongs to another message (a stream recreated over old data): it can never be stored. */
  conflicts: number[];
  /** Not written for another reason (database down, ...): to be redelivered. */
  failed: number[];
  /** The error behind `failed`, for the log. */
  error?: unknown;
}

/**
 * Writes a batch with one unordered insertMany. Unordered, so one duplicate does not stop the rest
 * of the batch; duplicate-key errors are then told apart by looking the ids up.
 */
export class BatchWriter {
  constructor(private readonly messages: Collection<MessageDoc>) {}

  async write(batch: readonly PositionedMessage[]): Promise<WriteOutcome> {
    const none: WriteOutcome = { stored: [], lateDuplicates: [], conflicts: [], failed: [] };
    if (batch.length === 0) return none;
    const storedAt = new Date();
    const docs: MessageDoc[] = batch.map(({ pos, message: m }) => ({
      _id: m.id,
      room: m.room,
      pos,
      sender: m.sender,
      text: m.text,
      ts: m.ts,
      clientMsgId: m.clientMsgId,
      storedAt,
    }));
    try {
      await this.messages.insertMany(docs, { ordered: false });
      return { ...none, stored: batch.map((_, index) => ({ index, redelivered: false })) };
    } catch (error) {
      if (!(error instanceof MongoBulkWriteError)) return { ...none, failed: batch.map((_, i) => i), error };
      return this.sortOut(batch, error);
    }
  }

  private async sortOut(batch: readonly PositionedMessage[], error: MongoBulkWriteError): Promise<WriteOutcome> {
    const outcome: WriteOutcome = { stored: [], lateDuplicates: [], conflicts: [], failed: [] };
    const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
    // The driver also reports a network failure as a MongoBulkWriteError, with no write errors
    // and nothing inserted. Only a complete account (every document either inserted or in
    // writeErrors) says which ones are in the database; otherwise assume none and redeliver all.
    if (writeErrors.length === 0 || error.insertedCount + writeErrors.length !== batch.length) {
      return { ...outcome, failed: batch.map((_, i) => i), error };
    }
    const duplicates: number[] = [];
    for (const writeError of writeErrors) {
      if (writeError.code === duplicateKey) duplicates.push(writeError.index);
      else outcome.failed.push(writeError.index);
    }
    const rejected = new Set<number>([...duplicates, ...outcome.failed]);
    batch.forEach((_, index) => {
      if (!rejected.has(index)) outcome.stored.push({ index, redelivered: false });
    });
    if (duplicates.length > 0) {
      // The server's duplicate-key message does not reliably name the index (FerretDB omits it),
      // so look the ids up.
      let existing: Map<string, MessageDoc>;
      try {
        const docs = await this.messages.find({ _id: { $in: duplicates.map((i) => batch[i]!.message.id) } }, { projection: { _id: 1, pos: 1 } }).toArray();
        existing = new Map(docs.map((d) => [d._id, d]));
      } catch (lookupError) {
        return { ...outcome, failed: [...outcome.failed, ...duplicates], error: lookupError };
      }
      const copies: number[] = [];
      for (const index of duplicates) {
        const doc = existing.get(batch[index]!.message.id);
        if (!doc) outcome.conflicts.push(index);
        else if (doc.pos === batch[index]!.pos) outcome.stored.push({ index, redelivered: true });
        else copies.push(index);
      }
      if (copies.length > 0) {
        const stored = await this.storeCopies(copies.map((i) => batch[i]!));
        if (stored) outcome.lateDuplicates.push(...copies);
        else outcome.failed.push(...copies);
      }
    }
    if (outcome.failed.length > 0) outcome.error = error;
    return outcome;
  }

  /** Stores later copies under `<id>@<pos>`; a redelivered copy is already there. False when the write failed. */
  private async storeCopies(copies: readonly PositionedMessage[]): Promise<boolean> {
    const storedAt = new Date();
    try {
      await this.messages.insertMany(
        copies.map(({ pos, message: m }) => ({ _id: `${m.id}@${pos}`, id: m.id, room: m.room, pos, sender: m.sender, text: m.text, ts: m.ts, clientMsgId: m.clientMsgId, storedAt })),
        { ordered: false },
      );
      return true;
    } catch (error) {
      const writeErrors = error instanceof MongoBulkWriteError ? (Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors]) : [];
      return error instanceof MongoBulkWriteError && error.insertedCount + writeErrors.length === copies.length && writeErrors.every((e) => e.code === duplicateKey);
    }
  }
}
