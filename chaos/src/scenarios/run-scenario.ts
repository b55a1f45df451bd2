import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlatform, type Platform } from '@chorus/local/platform';
import { LoadDriver, type LoadShape } from '../load/load-driver.js';
import type { WireProtocol } from '../protocol/wire-protocol.js';
import { progressLine } from '../report/progress-line.js';
import { drainWindowMs, type Scenario } from './scenario-catalog.js';
import type { ScenarioResult } from './scenario-result.js';
import { judge } from './verdict.js';

export interface RunSettings {
  shape: Omit<LoadShape, 'maxSendSeconds'>;
  /** Steady load before the fault. */
  warmupSeconds: number;
  /** The send phase lasts at least this long in all, counted from its start... */
  loadSeconds: number;
  /** ...and goes on at least this long after the platform is whole again. */
  afterFaultSeconds: number;
  /** Longest wait after the send phase for every ack and every owed delivery. */
  drainSeconds: number;
  protocol: WireProtocol;
  /** Keep the platform's data and logs: always, only when the scenario failed, or never. */
  keepData: 'always' | 'on-failure' | 'never';
  progress(line: string): void;
  progressIntervalMs?: number;
}

/** Longest send phase the ledger is sized for, whatever the fault takes. */
const maxSendSeconds = 180;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/**
 * One scenario on a fresh platform (2 gateways, 2 message-services, real servers): set up the
 * users and rooms, steady load, the fault, more load, then the drain; the ledger's account and the
 * verdict. Everything it started is stopped, also on failure.
 */
export async function runScenario(scenario: Scenario, settings: RunSettings): Promise<ScenarioResult> {
  const started = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), `chorus-chaos-${scenario.name}-`));
  const log = (line: string) => settings.progress(`[chaos ${scenario.name}] ${line}`);
  let platform: Platform | undefined;
  let driver: LoadDriver | undefined;
  let progressTimer: NodeJS.Timeout | undefined;
  let passed = false;
  try {
    log(`starting the platform in ${dataDir}`);
    const faultOptions = (await scenario.fault.prepare?.()) ?? {};
    platform = await startPlatform({
      ...faultOptions,
      dataDir,
      gateways: 2,
      messageServices: 2,
      batching: { batchSize: 100, flushIntervalMs: 50 },
      // A SIGTERM'd gateway spreads its clients' reconnects over the window and is gone within the timeout.
      serviceEnv: { DRAIN_WINDOW_MS: String(drainWindowMs), DRAIN_TIMEOUT_MS: String(drainWindowMs + 7_000) },
    });
    const { users, roomSize, sendsPerSecond } = settings.shape;
    log(`setting up ${users} users in ${users / roomSize} rooms of ${roomSize} `);
    driver = await LoadDriver.start({
      gatewayUrls: platform.gatewayUrls,
      protocol: settings.protocol,
      shape: { ...settings.shape, maxSendSeconds },
      prefix: 'chaos',
    });
    const loadStart = performance.now();
    let phase = 'warmup';
    const load = driver;
    progressTimer = setInterval(
      () => settings.progress(progressLine(scenario.name, (performance.now() - loadStart) / 1000, phase, load.snapshot())),
      settings.progressIntervalMs ?? 2_000,
    );
    log(`sending ${sendsPerSecond}/s`);
    driver.startSending();
    await sleep(settings.warmupSeconds * 1000);
    if (driver.stats.invalidFrames > 0) {
      // Every frame would be counted lost: say why instead of running the whole scenario.
      throw new Error(`the gateway does not speak protocol ${settings.protocol.name}: ${driver.stats.lastInvalid}`);
    }
    phase = 'fault';
    const outcome = await scenario.fault.inject({ platform, log });
    phase = 'load';
    await sleep(Math.max(loadStart + settings.loadSeconds * 1000 - performance.now(), settings.afterFaultSeconds * 1000));
    phase = 'drain';
    log('send phase over; draining');
    const drained = await driver.drain(settings.drainSeconds * 1000);
    const ledger = driver.ledger.report();
    const client = structuredClone(driver.stats);
    const verdict = judge(ledger, outcome.serverOutageMs, client.invalidFrames);
    passed = verdict.pass;
    return {
      name: scenario.name,
      verdict,
      fault: outcome.description,
      serverOutageMs: outcome.serverOutageMs,
      ledger,
      client,
      reconnects: { total: driver.reconnects.total, peakPerSecond: driver.reconnects.peakPerSecond() },
      unacked: driver.snapshot().unanswered,
      drained,
      seconds: (performance.now() - started) / 1000,
      dataDir: settings.keepData === 'always' || (settings.keepData === 'on-failure' && !passed) ? dataDir : undefined,
    };
  } catch (error) {
    const kept = settings.keepData !== 'never' ? ` (platform logs: ${join(dataDir, 'logs')})` : '';
    throw new Error(`${scenario.name}: ${(error as Error).message}${kept}`, { cause: error });
  } finally {
    clearInterval(progressTimer);
    driver?.close();
    await platform?.stop();
    scenario.fault.close?.();
    if (settings.keepData === 'never' || (settings.keepData === 'on-failure' && passed)) rmSync(dataDir, { recursive: true, force: true });
  }
}
