#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { v2Protocol } from './protocol/v2-protocol.js';
import { formatDetails, formatResultsTable, type ScenarioError } from './report/results-table.js';
import { scenarioNamed, scenarios } from './scenarios/scenario-catalog.js';
import type { ScenarioResult } from './scenarios/scenario-result.js';
import { runScenario } from './scenarios/run-scenario.js';
import { fullProfile } from './scenarios/run-profiles.js';

/**
 * `npm run chaos`: every scenario (or `--scenario <name>`), each on a fresh platform under steady
 * load; prints the table and exits 1 when any scenario failed or could not run, 2 on bad flags.
 */
const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
};
const positiveNumber = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
};

const program = new Command('chaos')
  .description('Faults under steady chat load, checked against an exact delivery ledger')
  .addOption(new Option('--scenario <names...>', 'scenarios to run (default: all)').choices(scenarios.map((s) => s.name)))
  .option('--list', 'list the scenarios and exit')
  .option('--users <n>', 'users (each in one room)', positiveInt, fullProfile.shape.users)
  .option('--room-size <n>', 'users per room', positiveInt, fullProfile.shape.roomSize)
  .option('--rate <sends/s>', 'total new sends per second', positiveNumber, fullProfile.shape.sendsPerSecond)
  .option('--warmup <s>', 'steady load before the fault', positiveNumber, fullProfile.warmupSeconds)
  .option('--load <s>', 'length of the send phase, at least', positiveNumber, fullProfile.loadSeconds)
  .option('--after-fault <s>', 'load after the platform is whole again, at least', positiveNumber, fullProfile.afterFaultSeconds)
  .option('--drain <s>', 'longest wait for every ack and delivery after the send phase', positiveNumber, fullProfile.drainSeconds)
  .addOption(new Option('--keep-data <when>', 'keep the platform data and logs').choices(['always', 'on-failure', 'never']).default('on-failure'))
  .option('--json <file>', 'also write the results as JSON')
  .showHelpAfterError();
program.exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));
program.parse();

const opts = program.opts<{
  scenario?: string[];
  list?: boolean;
  users: number;
  roomSize: number;
  rate: number;
  warmup: number;
  load: number;
  afterFault: number;
  drain: number;
  keepData: 'always' | 'on-failure' | 'never';
  json?: string;
}>();

if (opts.list) {
  for (const s of scenarios) process.stdout.write(`${s.name.padEnd(24)} ${s.summary}\n`);
  process.exit(0);
}
if (opts.users % opts.roomSize !== 0) {
  process.stderr.write(`chaos: --users (${opts.users}) must be a multiple of --room-size (${opts.roomSize})\n`);
  process.exit(2);
}

const selected = (opts.scenario ?? scenarios.map((s) => s.name)).map(scenarioNamed);
const results: (ScenarioResult | ScenarioError)[] = [];
for (const scenario of selected) {
  try {
    results.push(
      await runScenario(scenario, {
        shape: { users: opts.users, roomSize: opts.roomSize, sendsPerSecond: opts.rate },
        warmupSeconds: opts.warmup,
        loadSeconds: opts.load,
        afterFaultSeconds: opts.afterFault,
        drainSeconds: opts.drain,
        protocol: v2Protocol,
        keepData: opts.keepData,
        progress: (line) => process.stderr.write(`${line}\n`),
      }),
    );
  } catch (error) {
    process.stderr.write(`[chaos ${scenario.name}] could not run: ${(error as Error).message}\n`);
    results.push({ name: scenario.name, error: (error as Error).message });
  }
}

process.stdout.write(`\n${formatResultsTable(results)}\n\n${formatDetails(results)}\n`);
if (opts.json) writeFileSync(opts.json, `${JSON.stringify(results, null, 2)}\n`);
const failed = results.filter((r) => 'error' in r || !r.verdict.pass);
if (failed.length > 0) {
  process.stderr.write(`chaos: ${failed.length} of ${results.length} scenarios failed: ${failed.map((r) => r.name).join(', ')}\n`);
  process.exitCode = 1;
}
