import { MongoBulkWriteError, type Collection } from 'mongodb';
import type { QueuedMessage } from '@chorus/shared/bus/payloads';
import type { MessageDoc } from './collections.js';

const duplicateKey = 11000;

/** What became of each message of a batch, by its index in the batch. */
export interface WriteOutcome {
  /**
   * Stored now or already stored before (a redelivery), with the version that is in the database:
   * fan-out must announce the stored seq, even if a retried message came back with another one.
   */
  stored: { index: number; message: QueuedMessage; duplicate: boolean }[];
  /** Its seq belongs to another message: it can never be stored; redelivering won't help. */
  conflicts: number[];
  /** Not written for another reason (database down, ...): to be redelivered. */
  failed: number[];
  /** The error behind `failed`, for the log. */
  error?: unknown;
}

/**
 * Writes a batch with one unordered insertMany. Unordered, so one duplicate does not stop the rest
 * of the batch; duplicate-key errors are then told apart: the message id already stored means a
 * redelivery (fine), otherwise another message holds its (room, seq).
 */
export class BatchWriter {
  constructor(private readonly messages: Collection<MessageDoc>) {}

  async write(batch: readonly QueuedMessage[]): Promise<WriteOutcome> {
    if (batch.length === 0) return { stored: [], conflicts: [], failed: [] };
    const storedAt = new Date();
    const docs: MessageDoc[] = batch.map((m) => ({
      _id: m.id,
      room: m.room,
      seq: m.seq,
      sender: m.sender,
      text: m.text,
      ts: m.ts,
      clientMsgId: m.clientMsgId,
      storedAt,
    }));
    try {
      await this.messages.insertMany(docs, { ordered: false });
      return { stored: batch.map((message, index) => ({ index, message, duplicate: false })), conflicts: [], failed: [] };
    } catch (error) {
      if (!(error instanceof MongoBulkWriteError)) {
        return { stored: [], conflicts: [], failed: batch.map((_, i) => i), error };
      }
      return this.sortOut(batch, error);
    }
  }

  private async sortOut(batch: readonly QueuedMessage[], error: MongoBulkWriteError): Promise<WriteOutcome> {
    const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
    // The driver also reports a network failure as a MongoBulkWriteError, with no write errors
    // and nothing inserted. Only a complete account (every document either inserted or in
    // writeErrors) says which ones are in the database; otherwise assume none and redeliver all.
    if (writeErrors.length === 0 || error.insertedCount + writeErrors.length !== batch.length) {
      return { stored: [], conflicts: [], failed: batch.map((_, i) => i), error };
    }
    const duplicates = new Set<number>();
    const failed: number[] = [];
    for (const writeError of writeErrors) {
      if (writeError.code === duplicateKey) duplicates.add(writeError.index);
      else failed.push(writeError.index);
    }
    const rejected = new Set<number>([...duplicates, ...failed]);
    const stored: WriteOutcome['stored'] = [];
    batch.forEach((message, index) => {
      if (!rejected.has(index)) stored.push({ index, message, duplicate: false });
    });
    const conflicts: number[] = [];
    if (duplicates.size > 0) {
      // The server's duplicate-key message does not reliably name the index (FerretDB omits it),
      // so look the ids up: present means stored earlier.
      const indexes = [...duplicates];
      let existing: Map<string, MessageDoc>;
      try {
        const ids = indexes.map((i) => batch[i]!.id);
        const docs = await this.messages.find({ _id: { $in: ids } }).toArray();
        existing = new Map(docs.map((d) => [d._id, d]));
      } catch (lookupError) {
        return { stored, conflicts, failed: [...failed, ...indexes], error: lookupError };
      }
      for (const index of indexes) {
        const doc = existing.get(batch[index]!.id);
        if (doc) stored.push({ index, message: fromDoc(doc), duplicate: true });
        else conflicts.push(index);
      }
      stored.sort((a, b) => a.index - b.index);
    }
    return { stored, conflicts, failed, ...(failed.length > 0 && { error }) };
  }
}

function fromDoc(doc: MessageDoc): QueuedMessage {
  return { id: doc._id, room: doc.room, seq: doc.seq, sender: doc.sender, text: doc.text, ts: doc.ts, clientMsgId: doc.clientMsgId };
}
