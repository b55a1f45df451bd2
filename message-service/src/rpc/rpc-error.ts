import type { ErrorCode } from '@chorus/shared/protocol/error-codes';

/** A failure the caller should see with its protocol error code (not `internal`). */
export class RpcError extends Error {
  override name = 'RpcError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** With `limit_exceeded`: the limit's name and, for a time window, when to try again (ms). */
    readonly details: { limit?: string; retryAfterMs?: number } = {},
  ) {
    super(message);
  }
}
