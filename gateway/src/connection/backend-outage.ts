/**
 * True for errors that mean a backend connection is down or timed out (Redis, NATS), as opposed
 * to a bug: the client is told `unavailable` (safe to retry) instead of `internal`.
 */
export function isBackendOutage(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection is closed|connection closed|TIMEOUT|timeout|disconnect/i.test(error.message);
}
