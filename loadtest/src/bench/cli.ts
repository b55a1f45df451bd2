#!/usr/bin/env node
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem, release } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { formatBenchTable } from './bench-table.js';
import { defaultScenario, type BenchScenario } from './bench-scenario.js';
import { parseRows, rowKeys, startRowTarget, type RowKey } from './bench-rows.js';
import { centrifugoMissing } from './peers/centrifugo-target.js';
import { runRow, type RowResult } from './run-row.js';

/**
 * `npm run bench`: the same scenario against (a) per-message processing, (b) fixed batching
 * 100 / 50 ms, (c) the autopilot's live-tuned batching, (d) a bare ws broadcast server, and the
 * peers (e) Centrifugo and (f) Socket.IO; prints the tables and writes bench.json. Exits 1 when
 * any row lost a message.
 */
const program = new Command('bench')
  .addOption(
    new Option('--rows <list>', 'rows to run, comma-separated: a-h, or chorus (= c), bare (= d), centrifugo (= e), socketio (= f), one-address (= g), nginx (= h)').default(
      rowKeys.join(','),
    ),
  )
  .option('--users <n>', 'simulated users per run', String(defaultScenario.users))
  .option('--step-seconds <s>', 'send-phase length of each step', String(defaultScenario.stepSeconds))
  .option('--start-rate <sends/s>', 'first step of the saturation search', String(defaultScenario.startRate))
  .option('--max-steps <n>', 'most steps per row', String(defaultScenario.maxSteps))
  .option('--out <dir>', 'where bench.json goes', 'reports/bench')
  .parse();

const opts = program.opts<{ rows: string; users: string; stepSeconds: string; startRate: string; maxSteps: string; out: string }>();
let rows: RowKey[] = [];
try {
  rows = parseRows(opts.rows);
} catch (error) {
  process.stderr.write(`bench: --rows: ${(error as Error).message}\n`);
  process.exit(2);
}
const missing = rows.includes('e') ? centrifugoMissing() : undefined;
if (missing) {
  process.stderr.write(`bench: row e (Centrifugo): ${missing}\n  (bash scripts/bootstrap.sh centrifugo builds it; npm run bench does)\n`);
  process.exit(2);
}
const positive = (flag: string, raw: string): number => {
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`bench: ${flag}: "${raw}" is not a positive number\n`);
    process.exit(2);
  }
  return v;
};
const scenario: BenchScenario = {
  ...defaultScenario,
  users: Math.round(positive('--users', opts.users)),
  largeRoomSize: Math.min(defaultScenario.largeRoomSize, Math.round(positive('--users', opts.users))),
  stepSeconds: positive('--step-seconds', opts.stepSeconds),
  startRate: positive('--start-rate', opts.startRate),
  maxSteps: Math.round(positive('--max-steps', opts.maxSteps)),
};

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const started = Date.now();
const loadBefore = loadavg()[0]!;
const results: RowResult[] = [];
for (const key of rows) {
  // One system at a time: only the row under test shares the machine with the load tester.
  results.push(await runRow(() => startRowTarget(key), scenario, log));
}
results.sort((x, y) => rowKeys.indexOf(x.key as RowKey) - rowKeys.indexOf(y.key as RowKey));

const table = formatBenchTable(results);
const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GB RAM, Linux ${release()}, Node ${process.version}`;
// Other work on the machine skews every row; the 1-minute load average says how much there was.
const load = `1-min load average ${loadBefore.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end`;
process.stdout.write(`\n${table}\n\nmachine: ${machine}; ${load}\nbench took ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
await mkdir(opts.out, { recursive: true });
const file = join(opts.out, 'bench.json');
await writeFile(file, `${JSON.stringify({ machine, load, scenario, rows: results, table }, null, 2)}\n`);
process.stdout.write(`bench.json: ${file}\n`);
const lossy = results.filter((r) => r.lost > 0);
if (lossy.length > 0) {
  process.stderr.write(`bench: loss in ${lossy.map((r) => r.key).join(', ')}: zero loss is required in every row\n`);
  process.exitCode = 1;
}
