import { randomBytes } from 'node:crypto';
import { LoadRun } from '../run/load-run.js';
import type { BenchTarget, TargetProcess } from './bench-target.js';
import { stepConfig, type BenchScenario } from './bench-scenario.js';
import { cpuByKind } from './cpu-profile.js';
import type { LoadDriver, LoadDriverFactory } from './load-driver.js';
import { cpuDelta, totalCpuSeconds } from './process-cpu.js';
import { keepsUp, saturationPoint, shouldContinue, type StepResult } from './saturation.js';

/** One load run of a row, reduced to what the bench table needs. */
export interface RunMeasure extends StepResult {
  deliveryP50Ms: number;
  ackP50Ms: number;
  ackP99Ms: number;
  expected: number;
  delivered: number;
  errorsByCode: Record<string, number>;
  /** The system's tunable state at the end of the step (e.g. the autopilot's batching). */
  settings: string | undefined;
  /** CPU seconds of the target's processes over the send phase and drain. */
  cpuSeconds: number;
  /** The same, per process kind (gateway, NATS, ...). */
  cpuSecondsByKind: Record<string, number>;
  /** CPU seconds of the load tester itself (this process) over the step: is the driver cheap? */
  loadTesterCpuSeconds: number;
  keptUp: boolean;
}

export interface RowResult {
  key: string;
  label: string;
  steps: RunMeasure[];
  saturation: RunMeasure | undefined;
  /** False when the search hit its step limit while still keeping up: the row's capacity is higher. */
  saturated: boolean;
  at25: RunMeasure | undefined;
  at50: RunMeasure | undefined;
  /** Lost deliveries over every run of the row. */
  lost: number;
  errors: number;
  /** CPU ms of every process of the system per 1,000 deliveries, at saturation. */
  cpuMsPer1000: number | undefined;
  seconds: number;
}

/** A row's connected, joined population; each step is one measured phase over it. */
class RowSession {
  private cpuBefore = new Map<number, number>();
  private cpuAfter = new Map<number, number>();
  private processes: TargetProcess[] = [];
  private readonly run: LoadDriver;

  constructor(
    private readonly target: BenchTarget,
    private readonly scenario: BenchScenario,
    private readonly log: (line: string) => void,
  ) {
    const config = stepConfig(scenario, target.gateways, scenario.startRate, randomBytes(3).toString('hex'));
    const driver: LoadDriverFactory = target.driver ?? ((c, hooks) => new LoadRun(c, undefined, hooks));
    this.run = driver(config, {
      onSendPhaseStart: () => {
        this.processes = target.processes();
        this.cpuBefore = totalCpuSeconds(this.processes.map((p) => p.pid));
      },
      onDrained: () => (this.cpuAfter = totalCpuSeconds(this.processes.map((p) => p.pid))),
    });
  }

  async setup(): Promise<void> {
    const started = performance.now();
    await this.run.setup();
    this.log(`  ${this.target.key}: ${this.scenario.users} users connected and joined in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }

  async warmUp(): Promise<void> {
    const report = await this.run.measure(this.run.warmUpPhase(this.scenario.warmUpSeconds * 1000));
    const codes = Object.entries(report.messages.errorsByCode).map(([k, v]) => `${k}:${v}`).join(' ');
    this.log(
      `  ${this.target.key}: warm-up, one message in each of ${report.messages.sent} rooms: ack p99 ${report.latency.ackMs.p99} ms, ` +
        `lost ${report.deliveries.lost}, errors ${report.messages.errors}${codes ? ` (${codes})` : ''}`,
    );
  }

  async measure(rate: number): Promise<RunMeasure> {
    const { scenario, target } = this;
    const spec = this.run.schedulePhase({ ...stepConfig(scenario, target.gateways, rate, 'x').schedule }, 'steady');
    const ownCpu = process.cpuUsage();
    const report = await this.run.measure(spec);
    const ownCpuUsed = process.cpuUsage(ownCpu);
    if (report.connections.failed > 0) {
      throw new Error(`${target.label}: ${report.connections.failed} connections failed: ${JSON.stringify(report.connections.failuresByCode)}`);
    }
    const m: RunMeasure = {
      offeredSendsPerSec: report.throughput.offeredPerSec,
      expectedDeliveriesPerSec: report.deliveries.expected / scenario.stepSeconds,
      deliveredPerSec: report.throughput.deliveredPerSec,
      deliveryP50Ms: report.latency.deliveryMs.p50,
      deliveryP99Ms: report.latency.deliveryMs.p99,
      ackP50Ms: report.latency.ackMs.p50,
      ackP99Ms: report.latency.ackMs.p99,
      expected: report.deliveries.expected,
      delivered: report.deliveries.delivered,
      lost: report.deliveries.lost + report.deliveries.duplicates + report.deliveries.orderViolations,
      errors: report.messages.errors + report.messages.skipped,
      errorsByCode: report.messages.errorsByCode,
      settings: await target.describe?.().catch(() => undefined),
      cpuSeconds: cpuDelta(this.cpuBefore, this.cpuAfter),
      cpuSecondsByKind: cpuByKind(this.processes, this.cpuBefore, this.cpuAfter),
      loadTesterCpuSeconds: (ownCpuUsed.user + ownCpuUsed.system) / 1e6,
      keptUp: false,
    };
    m.keptUp = keepsUp(m, scenario.rules);
    const codes = Object.entries(m.errorsByCode).map(([k, v]) => `${k}:${v}`).join(' ');
    this.log(
      `  ${target.key}: offered ${rate.toFixed(0)} sends/s -> delivered ${m.deliveredPerSec.toFixed(0)}/s of ${m.expectedDeliveriesPerSec.toFixed(0)}/s owed, ` +
        `p50 ${m.deliveryP50Ms} ms p99 ${m.deliveryP99Ms} ms, ack p99 ${m.ackP99Ms} ms, lost ${m.lost}, errors ${m.errors}${codes ? ` (${codes})` : ''}, ` +
        `CPU ${m.cpuSeconds.toFixed(2)} s${m.settings ? `, ${m.settings}` : ''}${m.keptUp ? '' : '  (did not keep up)'}`,
    );
    return m;
  }

  close(): Promise<void> {
    return this.run.close();
  }
}

/** Starts a fresh instance of a row's system (a new platform, a new bare server process). */
export type TargetFactory = () => Promise<BenchTarget>;

/** Connects, joins and warms up a fresh instance; the caller measures and then finishes it. */
async function freshSession(start: TargetFactory, scenario: BenchScenario, log: (line: string) => void) {
  const target = await start();
  const session = new RowSession(target, scenario, log);
  try {
    await target.prepare();
    await session.setup();
    await session.warmUp();
  } catch (error) {
    await session.close();
    await target.finish();
    throw error;
  }
  return { target, session };
}

/**
 * One bench row: step the offered rate up until the delivered rate stops rising or latency
 * explodes; then, on a fresh instance (an overloaded platform can stay slow for a while after its
 * backlog is gone, which is not what "latency at 25% load" asks), measure latency at 25% and 50% of
 * the saturation rate.
 */
export async function runRow(start: TargetFactory, scenario: BenchScenario, log: (line: string) => void): Promise<RowResult> {
  const started = performance.now();
  const search = await freshSession(start, scenario, log);
  const { key, label } = search.target;
  log(`${label}: saturation search`);
  const steps: RunMeasure[] = [];
  try {
    let rate = scenario.startRate;
    while (steps.length < scenario.maxSteps) {
      steps.push(await search.session.measure(rate));
      if (!shouldContinue(steps, scenario.rules)) break;
      rate *= scenario.growth;
    }
  } finally {
    await search.session.close();
    await search.target.finish();
  }
  const saturation = saturationPoint(steps, scenario.rules) as RunMeasure | undefined;
  let at25: RunMeasure | undefined;
  let at50: RunMeasure | undefined;
  if (saturation) {
    log(`${label}: latency at 25% and 50% of ${saturation.offeredSendsPerSec} sends/s, on a fresh instance`);
    const latency = await freshSession(start, scenario, log);
    try {
      at25 = await latency.session.measure(saturation.offeredSendsPerSec * 0.25);
      at50 = await latency.session.measure(saturation.offeredSendsPerSec * 0.5);
    } finally {
      await latency.session.close();
      await latency.target.finish();
    }
  }
  const all = [...steps, ...(at25 ? [at25] : []), ...(at50 ? [at50] : [])];
  return {
    key,
    label,
    steps,
    saturation,
    saturated: steps.length < scenario.maxSteps || !shouldContinue(steps, scenario.rules),
    at25,
    at50,
    lost: all.reduce((n, m) => n + m.lost, 0),
    errors: all.reduce((n, m) => n + m.errors, 0),
    cpuMsPer1000: saturation && saturation.delivered > 0 ? (saturation.cpuSeconds / saturation.delivered) * 1_000_000 : undefined,
    seconds: (performance.now() - started) / 1000,
  };
}
