import type { ScenarioResult } from '../scenarios/scenario-result.js';

/** A scenario that could not run to its verdict (the platform did not start, a restart failed). */
export interface ScenarioError {
  name: string;
  error: string;
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);

/** The table of all scenarios, as plain text with aligned columns. */
export function formatResultsTable(results: (ScenarioResult | ScenarioError)[]): string {
  const header = ['scenario', 'result', 'acked', 'delivered', 'lost', 'duplicated', 'reordered', 'stall s', 'limit s', 'unavailable->ok', 'unacked', 'deliv. unacked', 'reconn.', 'reconn. peak/s'];
  const rows = results.map((r) =>
    'error' in r
      ? [r.name, 'ERROR', '', '', '', '', '', '', '', '', '', '', '', '']
      : [
          r.name,
          r.verdict.pass ? 'pass' : 'FAIL',
          String(r.ledger.acked),
          `${r.ledger.delivered}/${r.ledger.owed}`,
          String(r.ledger.lost),
          String(r.ledger.duplicated),
          String(r.ledger.reordered),
          seconds(r.ledger.stallMs),
          seconds(r.verdict.stallLimitMs),
          String(r.client.unavailableThenAcked),
          String(r.unacked),
          String(r.ledger.deliveredNeverAcked),
          String(r.reconnects.total),
          String(r.reconnects.peakPerSecond),
        ],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Below the table: per scenario, the fault, why it failed, and the first problems the ledger saw. */
export function formatDetails(results: (ScenarioResult | ScenarioError)[]): string {
  const out: string[] = [];
  for (const r of results) {
    if ('error' in r) {
      out.push(`${r.name}: could not run: ${r.error}`);
      continue;
    }
    const c = r.client;
    const byCode = (counts: Record<string, number>) => Object.entries(counts).map(([code, n]) => `${code} ${n}`).join(', ');
    const errors = byCode(c.sendErrors);
    const joinErrors = byCode(c.joinErrors);
    out.push(
      `${r.name}: ${r.fault}; ${r.seconds.toFixed(0)} s; sends ${c.sends} (attempts ${c.attempts}, unavailable ${c.unavailable}, ` +
        `timeouts ${c.timeouts}, resent after reconnect ${c.resentAfterReconnect}, skipped ${c.skipped}${errors ? `, other errors: ${errors}` : ''}); ` +
        `reconnects ${c.disconnects} (left a draining gateway ${c.drainMoves}), failed connects ${c.connectFailures}, resume joins ${c.resumes} (errors: ${joinErrors || 'none'}; after out-of-order ${c.repairs}); ` +
        `delivered before ack ${r.ledger.deliveredBeforeAck}, delivered never acked ${r.ledger.deliveredNeverAcked}; ` +
        `longest stall in ${r.ledger.stallRoom ?? '-'}${r.drained ? '' : '; the drain timed out'}`,
    );
    for (const failure of r.verdict.failures) out.push(`  FAIL ${failure}`);
    for (const sample of r.ledger.samples.slice(0, 8)) out.push(`  - ${sample}`);
    if (c.lastInvalid) out.push(`  - last invalid frame: ${c.lastInvalid}`);
    if (r.dataDir) out.push(`  platform data and logs kept in ${r.dataDir}`);
  }
  return out.join('\n');
}
