import { parseRoomMix } from '../config/room-mix.js';
import type { RunConfig } from '../run/run-config.js';
import { defaultSaturationRules, type SaturationRules } from './saturation.js';

/** The one scenario every bench row runs; only the offered rate changes from step to step. */
export interface BenchScenario {
  users: number;
  roomMix: string;
  largeRoomSize: number;
  largeRoomShare: number;
  messageSize: number;
  /** Send-phase length of each saturation step and of the 25% / 75% runs. */
  stepSeconds: number;
  /** Before measuring: one message per room over this many seconds (not measured). */
  warmUpSeconds: number;
  startRate: number;
  growth: number;
  maxSteps: number;
  drainTimeoutMs: number;
  seed: number;
  rules: SaturationRules;
}

export const defaultScenario: BenchScenario = {
  users: 1000,
  // Mostly small rooms, so a delivery costs the platform its whole pipeline rather than one socket
  // write, and the load tester (about 60,000 deliveries/s here) is not the first thing to saturate.
  roomMix: '2:40,5:40,20:20',
  largeRoomSize: 1000,
  largeRoomShare: 0.005,
  messageSize: 100,
  stepSeconds: 6,
  warmUpSeconds: 5,
  startRate: 50,
  growth: 1.6,
  maxSteps: 14,
  drainTimeoutMs: 120_000,
  seed: 7,
  rules: defaultSaturationRules,
};

/** A steady run of the scenario at `rate` sends/s against `gateways`. */
export function stepConfig(scenario: BenchScenario, gateways: string[], rate: number, runId: string): RunConfig {
  const durationMs = scenario.stepSeconds * 1000;
  return {
    profile: 'steady',
    gateways,
    users: scenario.users,
    roomMix: parseRoomMix(scenario.roomMix),
    largeRoomSize: scenario.largeRoomSize,
    messageSize: scenario.messageSize,
    schedule: {
      durationMs,
      rate,
      rampFromRate: rate,
      quietRate: 0,
      burstAtMs: 0,
      burstWindowMs: 0,
      burstFraction: 0,
      largeRoomShare: scenario.largeRoomShare,
      seed: scenario.seed,
    },
    connectConcurrency: 100,
    joinConcurrency: 20,
    connectTimeoutMs: 20_000,
    requestTimeoutMs: 20_000,
    drainTimeoutMs: scenario.drainTimeoutMs,
    drainIdleTimeoutMs: 15_000,
    runId,
    slo: { deliveryP99Ms: Infinity, ackP99Ms: Infinity, maxErrors: Infinity, maxConnectFailures: 0 },
  };
}
