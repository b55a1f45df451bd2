import type { RpcErrorDetails } from '@chorus/shared/bus/payloads';
import type { ErrorCode } from '@chorus/shared/protocol/error-codes';

/** A failure the caller should see with its protocol error code (not `internal`). */
export class RpcError extends Error {
  override name = 'RpcError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra fields of the reply: `holder` with `lease_held`; `limit` and `retryAfterMs` with `limit_exceeded`. */
    readonly details: RpcErrorDetails = {},
  ) {
    super(message);
  }
}
