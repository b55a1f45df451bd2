import type { Collection } from 'mongodb';
import type { LookupRequest, LookupResult } from '@chorus/shared/bus/payloads';
import { streamRetention } from '@chorus/shared/bus/jetstream-setup';
import type { MessageDoc } from '../storage/collections.js';
import type { WriterProgress } from '../pipeline/writer-progress.js';
import type { QueryGate } from './query-gate.js';
import { RpcError } from './rpc-error.js';

/** "Never stored" is only answered while the writer's lag leaves this much of the duplicate window. */
const safetyMarginMs = 30_000;

/**
 * Answers `chorus.rpc.lookup` for a resend: the position of a stored message id, or null. A
 * message newer than the writer's floor is not in MongoDB yet, but then it is inside JetStream's
 * duplicate window, which answers the publish with the original's position. So "null" is only
 * safe while the writer is less than that window behind; otherwise the resend is told to wait.
 */
export class LookupHandler {
  constructor(
    private readonly messages: Collection<MessageDoc>,
    private readonly writer: WriterProgress,
    private readonly gate: QueryGate,
    private readonly duplicateWindowMs = streamRetention.duplicateWindowMs,
  ) {}

  handle({ id, room }: LookupRequest, deadline?: number): Promise<LookupResult> {
    return this.gate.run(
      `lookup/${room}/${id}`,
      async () => {
        const doc = await this.messages.findOne({ _id: id }, { projection: { _id: 0, pos: 1, room: 1 } });
        if (doc && doc.room === room) return { pos: doc.pos };
        if (doc) throw new RpcError('invalid_frame', 'that clientMsgId was used for another room');
        const lag = await this.writer.lag();
        if (lag.oldestUnwrittenMs > this.duplicateWindowMs - safetyMarginMs) {
          throw new RpcError('unavailable', 'the message store is behind; resend later with the same clientMsgId');
        }
        return { pos: null };
      },
      deadline,
    );
  }
}
