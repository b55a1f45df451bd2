import type { LoadSnapshot } from '../load/load-driver.js';

/** One progress line of a running scenario (plain text, for terminals and CI logs alike). */
export function progressLine(scenario: string, seconds: number, phase: string, s: LoadSnapshot): string {
  const { ledger, client } = s;
  return (
    `[chaos ${scenario}] ${seconds.toFixed(0).padStart(3)}s ${phase.padEnd(7)} ` +
    `sends=${client.sends} acked=${ledger.acked} unanswered=${s.unanswered} ` +
    `delivered=${ledger.delivered}/${ledger.owed} outstanding=${ledger.outstanding} ` +
    `conns=${s.connected}/${s.users} unavailable=${client.unavailable} timeouts=${client.timeouts} ` +
    `reconnects=${client.disconnects} dup=${ledger.duplicated} reord=${ledger.reordered} stall=${(ledger.stallMs / 1000).toFixed(1)}s`
  );
}
