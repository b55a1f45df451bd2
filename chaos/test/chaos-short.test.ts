import { test } from 'node:test';
import assert from 'node:assert/strict';
import { v2Protocol } from '../src/protocol/v2-protocol.js';
import { formatDetails, formatResultsTable } from '../src/report/results-table.js';
import { runScenario } from '../src/scenarios/run-scenario.js';
import { shortProfile } from '../src/scenarios/run-profiles.js';
import { scenarioNamed } from '../src/scenarios/scenario-catalog.js';
import { stallAllowanceMs } from '../src/scenarios/verdict.js';

/**
 * The short chaos suite inside `npm test`: a few scenarios of `npm run chaos` at half the load
 * (100 users in 10 rooms, 150 sends/s, 10 s of sending), each on a fresh platform, asserting the
 * pass criteria one by one.
 */
const shortScenarios = ['message-service-1-kill', 'gateway-kill', 'gateway-drain', 'nats-pause', 'nats-link-freeze'];

for (const name of shortScenarios) {
  const options = { timeout: 150_000 };
  test(`chaos ${name}: nothing lost, duplicated or reordered, no room stalls past the limit`, options, async (t) => {
    const progress: string[] = [];
    const result = await runScenario(scenarioNamed(name), {
      ...shortProfile,
      protocol: v2Protocol,
      keepData: 'on-failure',
      progress: (line) => {
        progress.push(line);
        if (progress.length > 200) progress.shift();
      },
    });
    const report = `${formatResultsTable([result])}\n${formatDetails([result])}`;
    if (result.verdict.pass) for (const line of report.split('\n')) t.diagnostic(line);
    const why = `\n${report}\n${progress.slice(-8).join('\n')}`;
    assert.ok(result.ledger.acked > 0, `no send was acked${why}`);
    assert.equal(result.ledger.lost, 0, `lost${why}`);
    assert.equal(result.ledger.duplicated, 0, `duplicated${why}`);
    assert.equal(result.ledger.reordered, 0, `reordered${why}`);
    assert.equal(result.ledger.positionConflicts, 0, `position conflicts${why}`);
    assert.equal(result.client.invalidFrames, 0, `invalid frames${why}`);
    assert.ok(
      result.ledger.stallMs <= result.serverOutageMs + stallAllowanceMs,
      `stall ${result.ledger.stallMs.toFixed(0)} ms > ${result.serverOutageMs} ms outage + ${stallAllowanceMs} ms${why}`,
    );
    assert.ok(result.verdict.pass, `verdict${why}`);
  });
}
