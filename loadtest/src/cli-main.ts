import { Command, CommanderError, Option } from 'commander';
import { flagDefaults, runConfigFromFlags, UsageError, type RawFlags } from './config/cli-options.js';
import { LineProgress } from './progress/line-progress.js';
import { silentProgress, type ProgressReporter } from './progress/progress-reporter.js';
import { TerminalProgress } from './progress/terminal-progress.js';
import { formatSummary } from './report/summary-table.js';
import { writeReports } from './report/write-reports.js';
import { runLoad } from './run/load-run.js';

/** Exit codes: 0 all SLOs met, 1 an SLO broken, 2 bad usage, 3 the run itself failed. */
export const exitCodes = { ok: 0, sloBroken: 1, usage: 2, crashed: 3 } as const;

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function buildProgram(): Command {
  const d = flagDefaults;
  return new Command('loadtest')
    .description(
      'Opens real WebSocket connections through Chorus gateways and measures ack and delivery latency, loss, ' +
        'duplicates and order. Exits 1 when an SLO is broken (any loss always is).',
    )
    .argument('<profile>', 'steady | ramp | new-year')
    .addOption(
      new Option('--gateway <url>', 'http base URL of a gateway; repeatable or comma-separated (default: $LOADTEST_GATEWAY)').argParser(collect),
    )
    .option('--users <n>', 'simulated users (one WebSocket each)', d.users)
    .option('--room-mix <size:weight,...>', 'home-room sizes and the share of users in each', d.roomMix)
    .option('--large-room <n>', 'members of the one large room, 0 for none (default: min(1000, users))')
    .option('--large-room-share <0..1>', 'share of a large-room member\'s sends that go to the large room', d.largeRoomShare)
    .option('--rate <msgs/s>', 'offered sends per second (steady; the final rate of ramp)', d.rate)
    .option('--ramp-from <msgs/s>', 'ramp: rate at the start (default: rate/10)')
    .option('--quiet-rate <msgs/s>', 'new-year: background rate around the burst', d.quietRate)
    .option('--burst-at <duration>', 'new-year: burst start (default: duration/3)')
    .option('--burst-window <duration>', 'new-year: burst length', d.burstWindow)
    .option('--burst-fraction <0..1>', 'new-year: share of users that send once in the burst', d.burstFraction)
    .option('--duration <duration>', 'length of the send phase (e.g. 30s, 2m)', d.duration)
    .option('--message-size <chars>', 'text length of each message', d.messageSize)
    .option('--connect-concurrency <n>', 'logins + upgrades in flight at once', d.connectConcurrency)
    .option('--join-concurrency <n>', 'create/join requests in flight at once', d.joinConcurrency)
    .option('--connect-timeout <duration>', 'login + upgrade + welcome timeout', d.connectTimeout)
    .option('--request-timeout <duration>', 'create/join reply timeout', d.requestTimeout)
    .option('--drain-timeout <duration>', 'after the send phase, the most time to wait for owed acks and deliveries', d.drainTimeout)
    .option('--drain-idle-timeout <duration>', 'stop draining earlier when nothing arrived for this long', d.drainIdleTimeout)
    .option('--seed <n>', 'seed of the schedule (who sends when)', d.seed)
    .option('--run-id <id>', 'names this run\'s users and rooms (default: random)')
    .option('--slo-delivery-p99 <ms>', 'fail when send->delivery p99 exceeds this', d.sloDeliveryP99)
    .option('--slo-ack-p99 <ms>', 'fail when send->ack p99 exceeds this', d.sloAckP99)
    .option('--slo-max-errors <n>', 'fail when more error frames / dropped sockets than this', d.sloMaxErrors)
    .option('--slo-max-connect-failures <n>', 'fail when more connections than this fail', d.sloMaxConnectFailures)
    .option('--out <dir>', 'where report.json and report.html go', 'reports/loadtest')
    .addOption(new Option('--progress <mode>', 'live progress').choices(['auto', 'bar', 'lines', 'off']).default('auto'))
    .option('--progress-interval <seconds>', 'seconds between progress lines (lines mode)', '5');
}

function progressFor(mode: string, intervalSeconds: number): ProgressReporter {
  if (mode === 'off') return silentProgress;
  if (mode === 'bar' || (mode === 'auto' && process.stderr.isTTY)) return new TerminalProgress();
  return new LineProgress(undefined, intervalSeconds * 1000);
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram().exitOverride();
  try {
    program.parse(argv);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    throw error;
  }
  const opts = program.opts<RawFlags & { out: string; progress: string; progressInterval: string }>();
  let config;
  try {
    config = runConfigFromFlags(program.args[0]!, opts, process.env);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`loadtest: ${error.message}\n`);
      return exitCodes.usage;
    }
    throw error;
  }
  const interval = Number(opts.progressInterval);
  const progress = progressFor(opts.progress, Number.isFinite(interval) && interval > 0 ? interval : 5);
  try {
    const report = await runLoad(config, progress);
    process.stdout.write(formatSummary(report));
    const paths = await writeReports(report, opts.out);
    process.stdout.write(`reports: ${paths.json}, ${paths.html}\n`);
    return report.slo.passed ? exitCodes.ok : exitCodes.sloBroken;
  } catch (error) {
    process.stderr.write(`loadtest: run failed: ${(error as Error).stack ?? String(error)}\n`);
    return exitCodes.crashed;
  }
}
