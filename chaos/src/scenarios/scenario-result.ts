import type { ClientStats } from '../client/client-stats.js';
import type { LedgerReport } from '../ledger/delivery-ledger.js';
import type { Verdict } from './verdict.js';

export interface ScenarioResult {
  name: string;
  verdict: Verdict;
  fault: string;
  serverOutageMs: number;
  ledger: LedgerReport;
  client: ClientStats;
  /** Reconnects that got a welcome, and the most of them in one second (connections/s the surviving gateways took). */
  reconnects: { total: number; peakPerSecond: number };
  /** Sends still unanswered when the drain ended. */
  unacked: number;
  drained: boolean;
  seconds: number;
  /** Where the platform's logs are, when they were kept. */
  dataDir: string | undefined;
}
