#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { z } from 'zod';
import { runFuzz, type FuzzProgress } from './fuzz-run.js';
import { formatFuzzSummary } from './fuzz-summary.js';

/** Exit codes: 0 the gateway held, 1 a check failed, 2 bad usage, 3 the run itself failed. */
const exitCodes = { ok: 0, failed: 1, usage: 2, crashed: 3 } as const;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const flags = z.object({
  frames: int(1, 100_000_000),
  sockets: int(1, 2_000),
  socketsPerUser: int(1, 1_000),
  rate: int(1, 10_000),
  window: int(1, 1_000),
  seed: int(0, 2 ** 32 - 1),
  maxRssMb: int(16, 65_536),
  maxSteadyAckMs: int(1, 600_000),
  drainTimeout: int(100, 600_000),
  timeout: int(1_000, 86_400_000),
  progress: z.boolean(),
});

async function main(argv: string[]): Promise<number> {
  const program = new Command('fuzz')
    .description(
      'Starts a gateway with real nats-server, redis-server and FerretDB, sends generated frames (mutations of valid frames, ' +
        'invalid UTF-8, huge and nested values, binary frames, wrong types) over many sockets beside a well-behaved user, and checks ' +
        'that the gateway lives, answers every frame, keeps its memory bounded and serves the well-behaved user. Exits 1 when a check fails.',
    )
    .option('--frames <n>', 'frames to send in all', '100000')
    .option('--sockets <n>', 'fuzzing sockets', '100')
    .option('--sockets-per-user <n>', 'sockets per fuzzing user (the gateway allows 20 by default)', '4')
    .option('--rate <frames/s>', 'frames per second per socket (the gateway allows 50 by default)', '40')
    .option('--window <n>', 'unanswered frames per socket at most', '16')
    .option('--seed <n>', 'random seed: the same seed sends the same frames', '1')
    .option('--max-rss-mb <MiB>', 'fail when the gateway RSS exceeds this (gateway pods have a 256 Mi memory limit by default)', '256')
    .option('--max-steady-ack-ms <ms>', "fail when one of the well-behaved user's acks takes longer", '5000')
    .option('--drain-timeout <ms>', 'how long to wait for the last answers', '15000')
    .option('--timeout <ms>', 'the send phase may take at most this long', '600000')
    .addOption(new Option('--no-progress', 'no progress bar'))
    .exitOverride();
  try {
    program.parse(argv);
  } catch (error) {
    return error instanceof CommanderError && error.code === 'commander.helpDisplayed' ? exitCodes.ok : exitCodes.usage;
  }
  const parsed = flags.safeParse(program.opts());
  if (!parsed.success) {
    process.stderr.write(`fuzz: ${parsed.error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`).join('; ')}\n`);
    return exitCodes.usage;
  }
  const f = parsed.data;
  const bar = f.progress && process.stderr.isTTY
    ? new cliProgress.SingleBar({ format: 'fuzz |{bar}| {value}/{total} frames | answered {answered} | gateway RSS {rss} MiB | steady {steady}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic)
    : undefined;
  let lastLine = 0;
  const onProgress = (p: FuzzProgress) => {
    const payload = { answered: p.answered, rss: p.rssMb.toFixed(0), steady: p.steadyDelivered };
    if (bar) return bar.update(Math.min(p.sent, f.frames), payload);
    if (f.progress && Date.now() - lastLine > 5_000) {
      lastLine = Date.now();
      process.stderr.write(`fuzz: ${p.sent}/${f.frames} sent, ${p.answered} answered, gateway RSS ${payload.rss} MiB, steady ${p.steadyDelivered}\n`);
    }
  };
  bar?.start(f.frames, 0, { answered: 0, rss: 0, steady: 0 });
  const result = await runFuzz({
    frames: f.frames,
    sockets: f.sockets,
    socketsPerUser: f.socketsPerUser,
    rate: f.rate,
    window: f.window,
    seed: f.seed,
    maxRssMb: f.maxRssMb,
    maxSteadyAckMs: f.maxSteadyAckMs,
    drainTimeoutMs: f.drainTimeout,
    timeoutMs: f.timeout,
    onProgress,
  }).finally(() => bar?.stop());
  process.stdout.write(`${formatFuzzSummary(result)}\n`);
  return result.failures.length === 0 ? exitCodes.ok : exitCodes.failed;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`fuzz: ${String(error)}\n`);
    process.exitCode = exitCodes.crashed;
  },
);
