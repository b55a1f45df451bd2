import type { ErrorCode } from '@chorus/shared/protocol/error-codes';

/** A failure the caller should see with its protocol error code (not `internal`). */
export class RpcError extends Error {
  override name = 'RpcError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** With `lease_held`: the user whose session holds the lease. */
    readonly holder?: string,
  ) {
    super(message);
  }
}
