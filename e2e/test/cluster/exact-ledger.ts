/**
 * The verdict of a load run through the cluster: drain it (every send answered, every acked
 * message delivered), then assert the delivery ledger is exact: nothing lost, duplicated or
 * reordered, no conflicting room positions, no frames the client could not read.
 */
import assert from 'node:assert/strict';
import type { LoadDriver } from '@chorus/chaos/load/load-driver';

export interface LedgerVerdict {
  summary: string;
  acked: number;
  disconnects: number;
  /** Clients that moved because their gateway's reconnect frame said so (a drain). */
  drainMoves: number;
}

export async function assertExactLedger(driver: LoadDriver, drainTimeoutMs = 60_000): Promise<LedgerVerdict> {
  const drained = await driver.drain(drainTimeoutMs);
  const report = driver.ledger.report();
  const { disconnects, drainMoves, resumes, resentAfterReconnect } = driver.stats;
  const summary = JSON.stringify({ drained, disconnects, drainMoves, resumes, resentAfterReconnect, ...report, samples: report.samples.slice(0, 5) });
  assert.equal(report.lost, 0, `lost deliveries: ${summary}`);
  assert.equal(report.duplicated, 0, summary);
  assert.equal(report.reordered, 0, summary);
  assert.equal(report.positionConflicts, 0, summary);
  assert.equal(report.unexpected, 0, summary);
  assert.equal(driver.stats.invalidFrames, 0, summary);
  assert.ok(drained, `every send answered and every acked message delivered: ${summary}`);
  return { summary, acked: report.acked, disconnects, drainMoves };
}
