import { randomBytes } from 'node:crypto';
import { runLoad } from '../run/load-run.js';
import type { BenchTarget } from './bench-target.js';
import { stepConfig, type BenchScenario } from './bench-scenario.js';
import { cpuDelta, totalCpuSeconds } from './process-cpu.js';
import { keepsUp, saturationPoint, shouldContinue, type StepResult } from './saturation.js';

/** One load run of a row, reduced to what the bench table needs. */
export interface RunMeasure extends StepResult {
  deliveryP50Ms: number;
  ackP50Ms: number;
  ackP99Ms: number;
  expected: number;
  delivered: number;
  /** CPU seconds of the target's processes over the send phase and drain. */
  cpuSeconds: number;
  keptUp: boolean;
}

export interface RowResult {
  key: string;
  label: string;
  steps: RunMeasure[];
  saturation: RunMeasure | undefined;
  at25: RunMeasure | undefined;
  at75: RunMeasure | undefined;
  /** Lost deliveries over every run of the row. */
  lost: number;
  errors: number;
  cpuSecondsPer1000: number | undefined;
  seconds: number;
}

async function measure(target: BenchTarget, scenario: BenchScenario, rate: number, log: (line: string) => void): Promise<RunMeasure> {
  const runId = randomBytes(3).toString('hex');
  let cpuBefore = new Map<number, number>();
  let cpuAfter = new Map<number, number>();
  const report = await runLoad(stepConfig(scenario, target.gateways, rate, runId), undefined, {
    onSendPhaseStart: () => (cpuBefore = totalCpuSeconds(target.pids())),
    onDrained: () => (cpuAfter = totalCpuSeconds(target.pids())),
  });
  if (report.connections.failed > 0) {
    throw new Error(`${target.label}: ${report.connections.failed} connections failed: ${JSON.stringify(report.connections.failuresByCode)}`);
  }
  const sendSeconds = scenario.stepSeconds;
  const m: RunMeasure = {
    offeredSendsPerSec: report.throughput.offeredPerSec,
    expectedDeliveriesPerSec: report.deliveries.expected / sendSeconds,
    deliveredPerSec: report.throughput.deliveredPerSec,
    deliveryP50Ms: report.latency.deliveryMs.p50,
    deliveryP99Ms: report.latency.deliveryMs.p99,
    ackP50Ms: report.latency.ackMs.p50,
    ackP99Ms: report.latency.ackMs.p99,
    expected: report.deliveries.expected,
    delivered: report.deliveries.delivered,
    lost: report.deliveries.lost + report.deliveries.duplicates + report.deliveries.orderViolations,
    errors: report.messages.errors,
    cpuSeconds: cpuDelta(cpuBefore, cpuAfter),
    keptUp: false,
  };
  m.keptUp = keepsUp(m, scenario.rules);
  log(
    `  ${target.key}: offered ${rate.toFixed(0)} sends/s -> delivered ${m.deliveredPerSec.toFixed(0)}/s of ${m.expectedDeliveriesPerSec.toFixed(0)}/s owed, ` +
      `p50 ${m.deliveryP50Ms} ms p99 ${m.deliveryP99Ms} ms, lost ${m.lost}, errors ${m.errors}, CPU ${m.cpuSeconds.toFixed(2)} s${m.keptUp ? '' : '  (did not keep up)'}`,
  );
  return m;
}

/**
 * One bench row: step the offered rate up until the delivered rate stops rising or latency
 * explodes, then measure latency at 25% and 75% of the saturation rate.
 */
export async function runRow(target: BenchTarget, scenario: BenchScenario, log: (line: string) => void): Promise<RowResult> {
  const started = performance.now();
  log(`${target.label}`);
  await target.prepare();
  const steps: RunMeasure[] = [];
  let rate = scenario.startRate;
  while (steps.length < scenario.maxSteps) {
    steps.push(await measure(target, scenario, rate, log));
    if (!shouldContinue(steps, scenario.rules)) break;
    rate *= scenario.growth;
  }
  const saturation = saturationPoint(steps, scenario.rules) as RunMeasure | undefined;
  let at25: RunMeasure | undefined;
  let at75: RunMeasure | undefined;
  if (saturation) {
    at25 = await measure(target, scenario, saturation.offeredSendsPerSec * 0.25, log);
    at75 = await measure(target, scenario, saturation.offeredSendsPerSec * 0.75, log);
  }
  await target.finish();
  const all = [...steps, ...(at25 ? [at25] : []), ...(at75 ? [at75] : [])];
  return {
    key: target.key,
    label: target.label,
    steps,
    saturation,
    at25,
    at75,
    lost: all.reduce((n, m) => n + m.lost, 0),
    errors: all.reduce((n, m) => n + m.errors, 0),
    cpuSecondsPer1000: saturation && saturation.delivered > 0 ? (saturation.cpuSeconds / saturation.delivered) * 1000 : undefined,
    seconds: (performance.now() - started) / 1000,
  };
}
