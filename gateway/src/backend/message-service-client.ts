import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { deadlineHeader, subjects } from '@chorus/shared/bus/names';
import type { HistoryRequest, HistoryResult, LookupRequest, LookupResult, RoomAdminRequest, RoomsRequest, RoomsResults, RpcReply } from '@chorus/shared/bus/payloads';
import type { ErrorCode } from '@chorus/shared/protocol/error-codes';
import { errorCodes } from '@chorus/shared/protocol/error-codes';

/** An RPC answered with an error code the client should see (room_not_found, unavailable, ...). */
export class BackendError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** With `lease_held`: who holds the lease. */
    readonly holder?: string,
  ) {
    super(message);
  }
}

/**
 * Request/reply calls to the message-service replicas (queue group) over NATS. Each request
 * carries its deadline, so a replica drops work whose caller has already given up.
 */
export class MessageServiceClient {
  constructor(private readonly nc: NatsConnection, private readonly timeoutMs = 5_000) {}

  rooms<Op extends RoomsRequest['op']>(request: Extract<RoomsRequest, { op: Op }>): Promise<RoomsResults[Op]> {
    return this.call(subjects.roomsRpc, request);
  }

  /** The result type is the op's (RoomAdminResults); the caller names it. */
  roomAdmin<T>(request: RoomAdminRequest): Promise<T> {
    return this.call(subjects.roomAdminRpc, request);
  }

  history(request: HistoryRequest): Promise<HistoryResult> {
    return this.call(subjects.historyRpc, request);
  }

  lookup(request: LookupRequest): Promise<LookupResult> {
    return this.call(subjects.lookupRpc, request);
  }

  private async call<T>(subject: string, request: unknown): Promise<T> {
    let reply: RpcReply<T>;
    try {
      const headers = natsHeaders();
      headers.set(deadlineHeader, String(Date.now() + this.timeoutMs));
      const message = await this.nc.request(subject, JSON.stringify(request), { timeout: this.timeoutMs, headers });
      reply = message.json<RpcReply<T>>();
    } catch (error) {
      throw new BackendError('unavailable', `message service did not answer: ${(error as Error).message}`);
    }
    if (reply.ok) return reply.result;
    const code = (errorCodes as readonly string[]).includes(reply.code) ? (reply.code as ErrorCode) : 'internal';
    throw new BackendError(code, reply.message, typeof reply.holder === 'string' ? reply.holder.slice(0, 32) : undefined);
  }
}
