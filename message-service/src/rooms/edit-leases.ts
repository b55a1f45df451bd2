import { MongoServerError, type Collection } from 'mongodb';
import type { EditLease } from '@chorus/shared/bus/payloads';
import { editLeaseMs } from '@chorus/shared/protocol/room-rules';
import { leaseId, type EditLeaseDoc, type RoomDoc } from '../storage/collections.js';
import { RpcError } from '../rpc/rpc-error.js';

export interface LeaseHolder {
  user: string;
  /** The connection: a second session of the same user does not hold the lease. */
  session: string;
}

/**
 * Edit leases in MongoDB, so every message-service replica sees the same holder. Each step is
 * one conditional single-document operation (no transactions): acquire succeeds only on a free,
 * expired or own lease; every acquire takes a new fencing token from the room's counter, so a
 * token names one lease and newer leases have larger tokens.
 */
export class EditLeases {
  constructor(
    private readonly leases: Collection<EditLeaseDoc>,
    private readonly rooms: Collection<RoomDoc>,
    private readonly ttlMs = editLeaseMs,
    private readonly now: () => number = Date.now,
  ) {}

  async acquire(room: string, target: string, holder: LeaseHolder): Promise<EditLease> {
    // No projection: FerretDB's findAndModify does not take one.
    const counter = await this.rooms.findOneAndUpdate({ _id: room }, { $inc: { fenceSeq: 1 } }, { returnDocument: 'after' });
    if (!counter) throw new RpcError('room_not_found', `room ${room} does not exist`);
    const fence = counter.fenceSeq!;
    const now = this.now();
    const lease: EditLeaseDoc = { _id: leaseId(room, target), room, target, holder: holder.user, session: holder.session, fence, expiresAt: now + this.ttlMs };
    try {
      await this.leases.updateOne(
        { _id: lease._id, $or: [{ expiresAt: { $lte: now } }, { session: holder.session }] },
        { $set: { room, target, holder: lease.holder, session: lease.session, fence, expiresAt: lease.expiresAt } },
        { upsert: true },
      );
    } catch (error) {
      // The lease exists and is another session's: the upsert's insert hit the _id index.
      if (!(error instanceof MongoServerError && error.code === 11000)) throw error;
      const current = await this.leases.findOne({ _id: lease._id });
      if (current && current.expiresAt > now) throw held(current);
      throw new RpcError('unavailable', 'the lease changed hands while acquiring; try again');
    }
    return view(lease);
  }

  async renew(room: string, target: string, holder: LeaseHolder, fence: number): Promise<EditLease> {
    const now = this.now();
    const renewed = await this.leases.findOneAndUpdate(
      { _id: leaseId(room, target), session: holder.session, fence, expiresAt: { $gt: now } },
      { $set: { expiresAt: now + this.ttlMs } },
      { returnDocument: 'after' },
    );
    if (!renewed) throw await this.whyNot(room, target, holder, fence);
    return view(renewed);
  }

  /** Idempotent: releasing a lease this session no longer holds changes nothing. */
  async release(room: string, target: string, holder: LeaseHolder, fence: number): Promise<void> {
    await this.leases.deleteOne({ _id: leaseId(room, target), session: holder.session, fence });
  }

  async releaseSession(session: string): Promise<number> {
    return (await this.leases.deleteMany({ session })).deletedCount;
  }

  /**
   * Refuses unless this session holds the live lease with this token. The write that follows
   * is conditioned on the same token (fence <= token on the document), so a holder whose lease
   * lapsed after this check still cannot overwrite a newer holder's write.
   */
  async check(room: string, target: string, holder: LeaseHolder, fence: number): Promise<void> {
    const lease = await this.leases.findOne({ _id: leaseId(room, target) });
    if (lease && lease.session === holder.session && lease.fence === fence && lease.expiresAt > this.now()) return;
    throw await this.whyNot(room, target, holder, fence, lease);
  }

  async held(room: string): Promise<EditLease[]> {
    const docs = await this.leases.find({ room, expiresAt: { $gt: this.now() } }).limit(1000).toArray();
    return docs.map(view).sort((a, b) => a.target.localeCompare(b.target));
  }

  private async whyNot(room: string, target: string, holder: LeaseHolder, fence: number, known?: EditLeaseDoc | null): Promise<RpcError> {
    const lease = known === undefined ? await this.leases.findOne({ _id: leaseId(room, target) }) : known;
    const live = lease !== null && lease.expiresAt > this.now();
    if (lease && lease.fence > fence) {
      return live && lease.session !== holder.session
        ? new RpcError('stale_fence', `fencing token ${fence} is stale: ${lease.holder} holds ${target} with a newer lease`, lease.holder)
        : new RpcError('stale_fence', `fencing token ${fence} is stale; a newer lease was taken`);
    }
    if (lease && live && lease.session !== holder.session) return held(lease);
    return new RpcError('lease_expired', `the edit lease on ${target} expired or was released; acquire it again`);
  }
}

function held(lease: EditLeaseDoc): RpcError {
  return new RpcError('lease_held', `${lease.target} is being edited by ${lease.holder}`, lease.holder);
}

function view(doc: EditLeaseDoc): EditLease {
  return { room: doc.room, target: doc.target, holder: doc.holder, fence: doc.fence, expiresAt: doc.expiresAt };
}
