import type { LedgerReport } from '../ledger/delivery-ledger.js';

/** How long a room may go without a delivery while owed messages: after a service crash, and on top of a server outage. */
export const stallAllowanceMs = 3_000;

export interface Verdict {
  pass: boolean;
  stallLimitMs: number;
  /** Why it failed, one line per broken criterion. */
  failures: string[];
}

/**
 * Pass: nothing lost, duplicated or reordered (and the positions the ledger saw agree), and no room
 * stalled longer than 3 s, or than the server outage plus 3 s.
 */
export function judge(report: LedgerReport, serverOutageMs: number, invalidFrames: number): Verdict {
  const stallLimitMs = serverOutageMs + stallAllowanceMs;
  const failures: string[] = [];
  if (report.lost > 0) failures.push(`${report.lostMessages} acked messages never reached ${report.lost} (member, message) pairs`);
  if (report.duplicated > 0) failures.push(`${report.duplicated} duplicate deliveries`);
  if (report.reordered > 0) failures.push(`${report.reordered} deliveries out of order or after a gap`);
  if (report.positionConflicts > 0) failures.push(`${report.positionConflicts} position conflicts between acks and deliveries`);
  if (report.unexpected > 0) failures.push(`${report.unexpected} deliveries to non-members`);
  if (invalidFrames > 0) failures.push(`${invalidFrames} frames did not validate against the protocol`);
  if (report.stallMs > stallLimitMs) {
    failures.push(`room ${report.stallRoom} stalled ${(report.stallMs / 1000).toFixed(1)} s (limit ${(stallLimitMs / 1000).toFixed(1)} s)`);
  }
  return { pass: failures.length === 0, stallLimitMs, failures };
}
