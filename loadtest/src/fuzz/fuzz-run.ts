import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlatform, type Platform } from '@chorus/local/platform';
import { createLogger } from '@chorus/shared/logging/logger';
import { protocolLimits } from '@chorus/shared/protocol/limits';
import { gatewayEndpoint } from '../client/gateway-url.js';
import { LoginClient } from '../client/login.js';
import { seededRandom } from '../plan/seeded-random.js';
import { emptyCounts, FuzzSocket, type FuzzCounts } from './fuzz-socket.js';
import { processAlive, processRssMb } from './process-rss.js';
import { SteadyChat, type SteadyReport } from './steady-chat.js';

export interface FuzzOptions {
  /** Frames to send in all. */
  frames: number;
  sockets: number;
  /** Sockets per fuzz user (below the gateway's sockets-per-user limit). */
  socketsPerUser: number;
  /** Frames per second per socket. */
  rate: number;
  window: number;
  seed: number;
  /** The verdict fails when the gateway's RSS exceeds this (MiB). */
  maxRssMb: number;
  /** The verdict fails when an ack of the well-behaved user takes longer (ms). */
  maxSteadyAckMs: number;
  /** How long to wait for the last answers (ms). */
  drainTimeoutMs: number;
  /** The whole send phase may take at most this long (ms); frames not sent by then fail the run. */
  timeoutMs: number;
  onProgress?: (progress: FuzzProgress) => void;
}

export interface FuzzProgress {
  sent: number;
  answered: number;
  rssMb: number;
  steadyDelivered: number;
}

export interface FuzzResult {
  options: FuzzOptions;
  counts: FuzzCounts;
  steady: SteadyReport;
  rssStartMb: number;
  rssMaxMb: number;
  rssEndMb: number;
  gatewayAlive: boolean;
  elapsedMs: number;
  /** Kinds of frames left unanswered, with their counts. */
  unansweredKinds: Record<string, number>;
  /** A few of the frames left unanswered. */
  unansweredExamples: string[];
  failures: string[];
}

/**
 * Runs the fuzzer against a platform it starts (one gateway, one message-service, real
 * nats-server, redis-server and FerretDB, default limits) and judges the run.
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chorus-fuzz-'));
  const log = createLogger('fuzz');
  log.level = 'warn';
  let platform: Platform | undefined;
  const logins = new LoginClient();
  const sockets: FuzzSocket[] = [];
  let steady: SteadyChat | undefined;
  let sampler: NodeJS.Timeout | undefined;
  try {
    platform = await startPlatform({ dataDir, gateways: 1, messageServices: 1, logger: log });
    const endpoint = gatewayEndpoint(platform.gatewayUrls[0]!);
    const gatewayPid = platform.processes().find((p) => p.name === 'gateway-1')!.pid!;
    const rss = { start: processRssMb(gatewayPid) ?? 0, max: 0, last: 0 };
    rss.max = rss.last = rss.start;
    sampler = setInterval(() => {
      rss.last = processRssMb(gatewayPid) ?? rss.last;
      rss.max = Math.max(rss.max, rss.last);
    }, 250);

    steady = new SteadyChat(
      endpoint,
      { sender: await logins.login(endpoint.loginUrl, 'steady-a', 10_000), receiver: await logins.login(endpoint.loginUrl, 'steady-b', 10_000) },
      'steady',
    );
    await steady.start();

    let budget = options.frames;
    const take = () => budget-- > 0;
    const random = seededRandom(options.seed);
    for (let i = 0; i < options.sockets; i++) {
      const user = `fuzz-${Math.floor(i / options.socketsPerUser)}`;
      const token = await logins.login(endpoint.loginUrl, user, 10_000);
      // Each socket draws from its own stream of the seed, so a run is reproducible socket by socket.
      const socket = new FuzzSocket({ endpoint, token, room: `fz-${i}`, random: seededRandom(Math.floor(random() * 2 ** 32)), rate: options.rate, window: options.window, maxFrameBytes: protocolLimits.maxFrameBytes, take });
      sockets.push(socket);
    }
    const startedAt = Date.now();
    await Promise.all(sockets.map((s) => s.start()));

    const total = () => sockets.reduce((sum, s) => ({ sent: sum.sent + s.counts.sent, answered: sum.answered + s.counts.answered }), { sent: 0, answered: 0 });
    const progress = () => options.onProgress?.({ ...total(), rssMb: rss.last, steadyDelivered: steady!.report().delivered });
    const progressTimer = setInterval(progress, 500);
    try {
      // Until the budget is spent and every answer is in (or the drain time is up).
      const gone = () => !processAlive(gatewayPid);
      await until(() => budget <= 0 && sockets.every((s) => s.pending() === 0), () => budget > 0 && Date.now() - startedAt < options.timeoutMs, options.drainTimeoutMs, gone);
      for (const socket of sockets) socket.stop();
      steady.stop();
      await until(() => steady!.settled(), () => false, 10_000, gone);
    } finally {
      clearInterval(progressTimer);
      progress();
    }
    const elapsedMs = Date.now() - startedAt;
    for (const socket of sockets) socket.close();
    const gatewayAlive = processAlive(gatewayPid) && (await fetch(`${endpoint.base}/healthz`).then((r) => r.ok, () => false));
    clearInterval(sampler);

    const counts = emptyCounts();
    for (const socket of sockets) for (const key of Object.keys(counts) as (keyof FuzzCounts)[]) counts[key] += socket.counts[key];
    const unansweredKinds: Record<string, number> = {};
    for (const socket of sockets) for (const [kind, n] of socket.unansweredKinds) unansweredKinds[kind] = (unansweredKinds[kind] ?? 0) + n;
    const report = steady.report();
    const unansweredExamples = sockets.flatMap((s) => s.unansweredExamples).slice(0, 20);
    const result: FuzzResult = { options, counts, steady: report, unansweredKinds, unansweredExamples, rssStartMb: rss.start, rssMaxMb: rss.max, rssEndMb: rss.last, gatewayAlive, elapsedMs, failures: [] };
    result.failures = judge(result);
    return result;
  } finally {
    clearInterval(sampler);
    steady?.close();
    for (const socket of sockets) socket.stop();
    logins.close();
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Everything that makes a run fail, in words; empty when it passed. */
export function judge(result: Omit<FuzzResult, 'failures'>): string[] {
  const { counts: c, steady: s, options: o } = result;
  const failures: string[] = [];
  if (!result.gatewayAlive) failures.push('the gateway died');
  if (c.sent < o.frames) failures.push(`only ${c.sent} of ${o.frames} frames were sent`);
  if (c.unanswered > 0) failures.push(`${c.unanswered} frames were never answered`);
  if (c.missedErrors > 0) failures.push(`${c.missedErrors} invalid frames were answered without an error`);
  if (c.unriddedErrorAnswers < c.unriddedErrorsExpected) failures.push(`${c.unriddedErrorsExpected} invalid frames without rid, only ${c.unriddedErrorAnswers} errors`);
  if (c.strayAnswers > 0) failures.push(`${c.strayAnswers} answers matched no frame`);
  if (c.unknownCodes > 0) failures.push(`${c.unknownCodes} errors had a code outside the protocol`);
  if (c.unexpectedCloses > 0) failures.push(`${c.unexpectedCloses} sockets were closed unexpectedly`);
  if (c.closesSeen !== c.closesExpected || c.wrongCloseCodes > 0) failures.push(`${c.closesExpected} connection-failing frames, ${c.closesSeen} closes, ${c.wrongCloseCodes} with a wrong code`);
  if (result.rssMaxMb > o.maxRssMb) failures.push(`gateway RSS reached ${result.rssMaxMb.toFixed(0)} MiB (limit ${o.maxRssMb})`);
  if (s.sent === 0 || s.acked !== s.sent || s.delivered !== s.sent) failures.push(`well-behaved user: ${s.sent} sent, ${s.acked} acked, ${s.delivered} delivered`);
  if (s.orderViolations > 0 || s.errors > 0) failures.push(`well-behaved user: ${s.orderViolations} out of order, ${s.errors} errors`);
  if (s.maxAckMs > o.maxSteadyAckMs) failures.push(`well-behaved user: slowest ack ${s.maxAckMs} ms (limit ${o.maxSteadyAckMs})`);
  return failures;
}

/** Polls until `done`; the deadline starts once `sending` is false; `dead` ends the wait at once. */
async function until(done: () => boolean, sending: () => boolean, drainMs: number, dead: () => boolean): Promise<void> {
  let deadline = Infinity;
  while (!done() && !dead()) {
    if (deadline === Infinity && !sending()) deadline = Date.now() + drainMs;
    if (Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
