import { randomBytes } from 'node:crypto';
import { protocolLimits } from '@chorus/shared/protocol/limits';
import { gatewayEndpoint, splitGatewayList } from '../client/gateway-url.js';
import { minMessageSize } from '../client/message-text.js';
import { profileNames, type ProfileName } from '../profiles/schedule.js';
import type { RunConfig } from '../run/run-config.js';
import { parseDurationMs } from './duration.js';
import { parseRoomMix } from './room-mix.js';

/** The flags as commander hands them over: strings, not yet validated. */
export interface RawFlags {
  gateway?: string[];
  users?: string;
  roomMix?: string;
  largeRoom?: string;
  largeRoomShare?: string;
  rate?: string;
  rampFrom?: string;
  quietRate?: string;
  burstAt?: string;
  burstWindow?: string;
  burstFraction?: string;
  duration?: string;
  messageSize?: string;
  connectConcurrency?: string;
  joinConcurrency?: string;
  connectTimeout?: string;
  requestTimeout?: string;
  drainTimeout?: string;
  drainIdleTimeout?: string;
  seed?: string;
  runId?: string;
  sloDeliveryP99?: string;
  sloAckP99?: string;
  sloMaxErrors?: string;
  sloMaxConnectFailures?: string;
}

export const flagDefaults = {
  users: '1000',
  roomMix: '2:30,5:30,20:25,100:15',
  largeRoomShare: '0.05',
  rate: '200',
  quietRate: '10',
  burstWindow: '5s',
  burstFraction: '0.9',
  duration: '30s',
  messageSize: '100',
  connectConcurrency: '100',
  joinConcurrency: '20',
  connectTimeout: '15s',
  requestTimeout: '15s',
  drainTimeout: '60s',
  drainIdleTimeout: '10s',
  seed: '1',
  sloDeliveryP99: '1000',
  sloAckP99: '1000',
  sloMaxErrors: '0',
  sloMaxConnectFailures: '0',
} as const;

/** A flag had a bad value; the message names the flag and says what is accepted. */
export class UsageError extends Error {}

function num(flag: string, raw: string, opts: { min?: number; max?: number; integer?: boolean }): number {
  const value = Number(raw);
  const kind = opts.integer ? 'an integer' : 'a number';
  if (raw.trim() === '' || !Number.isFinite(value) || (opts.integer && !Number.isInteger(value))) {
    throw new UsageError(`${flag}: "${raw}" is not ${kind}`);
  }
  if (opts.min !== undefined && value < opts.min) throw new UsageError(`${flag}: ${value} is below the minimum ${opts.min}`);
  if (opts.max !== undefined && value > opts.max) throw new UsageError(`${flag}: ${value} is above the maximum ${opts.max}`);
  return value;
}

function duration(flag: string, raw: string): number {
  try {
    return parseDurationMs(raw);
  } catch (error) {
    throw new UsageError(`${flag}: ${(error as Error).message}`);
  }
}

/**
 * Turns the profile argument, the flags and the environment into a validated RunConfig, or throws a
 * UsageError naming the offending flag. Pure, so every rule is unit-tested.
 */
export function runConfigFromFlags(profile: string, raw: RawFlags, env: NodeJS.ProcessEnv): RunConfig {
  if (!(profileNames as readonly string[]).includes(profile)) {
    throw new UsageError(`profile "${profile}" is not one of ${profileNames.join(', ')}`);
  }
  const f = { ...flagDefaults, ...stripUndefined(raw) };

  const gatewayValues = splitGatewayList(raw.gateway && raw.gateway.length > 0 ? raw.gateway : [env.LOADTEST_GATEWAY ?? '']);
  if (gatewayValues.length === 0) {
    throw new UsageError('no gateway: pass --gateway http://host:port (repeatable or comma-separated) or set LOADTEST_GATEWAY');
  }
  const gateways = gatewayValues.map((g) => {
    try {
      return gatewayEndpoint(g).base;
    } catch (error) {
      throw new UsageError(`--gateway: ${(error as Error).message}`);
    }
  });

  const users = num('--users', f.users, { min: 1, max: 200_000, integer: true });
  let roomMix;
  try {
    roomMix = parseRoomMix(f.roomMix);
  } catch (error) {
    throw new UsageError(`--room-mix: ${(error as Error).message}`);
  }
  const largeRoomSize =
    raw.largeRoom === undefined ? Math.min(1000, users) : num('--large-room', raw.largeRoom, { min: 0, max: users, integer: true });

  const durationMs = duration('--duration', f.duration);
  if (durationMs < 1000) throw new UsageError('--duration: must be at least 1s');
  const rate = num('--rate', f.rate, { min: 0.01 });
  const burstWindowMs = duration('--burst-window', f.burstWindow);
  const burstAtMs = raw.burstAt === undefined ? Math.round(durationMs / 3) : duration('--burst-at', raw.burstAt);
  if (profile === 'new-year' && burstAtMs + burstWindowMs > durationMs) {
    throw new UsageError(
      `--burst-at + --burst-window (${burstAtMs + burstWindowMs} ms) must end within --duration (${durationMs} ms)`,
    );
  }
  const min = minMessageSize();
  const messageSize = num('--message-size', f.messageSize, { min, max: protocolLimits.maxTextChars, integer: true });

  const runId = raw.runId ?? randomBytes(4).toString('hex').slice(0, 6);
  if (!/^[a-z0-9]{1,12}$/.test(runId)) throw new UsageError('--run-id: use 1-12 characters of a-z 0-9');

  return {
    profile: profile as ProfileName,
    gateways,
    users,
    roomMix,
    largeRoomSize,
    messageSize,
    schedule: {
      durationMs,
      rate,
      rampFromRate: raw.rampFrom === undefined ? rate / 10 : num('--ramp-from', raw.rampFrom, { min: 0.01 }),
      quietRate: num('--quiet-rate', f.quietRate, { min: 0 }),
      burstAtMs,
      burstWindowMs,
      burstFraction: num('--burst-fraction', f.burstFraction, { min: 0, max: 1 }),
      largeRoomShare: num('--large-room-share', f.largeRoomShare, { min: 0, max: 1 }),
      seed: num('--seed', f.seed, { min: 0, integer: true }),
    },
    connectConcurrency: num('--connect-concurrency', f.connectConcurrency, { min: 1, max: 10_000, integer: true }),
    joinConcurrency: num('--join-concurrency', f.joinConcurrency, { min: 1, max: 10_000, integer: true }),
    connectTimeoutMs: duration('--connect-timeout', f.connectTimeout),
    requestTimeoutMs: duration('--request-timeout', f.requestTimeout),
    drainTimeoutMs: duration('--drain-timeout', f.drainTimeout),
    drainIdleTimeoutMs: duration('--drain-idle-timeout', f.drainIdleTimeout),
    runId,
    slo: {
      deliveryP99Ms: num('--slo-delivery-p99', f.sloDeliveryP99, { min: 0 }),
      ackP99Ms: num('--slo-ack-p99', f.sloAckP99, { min: 0 }),
      maxErrors: num('--slo-max-errors', f.sloMaxErrors, { min: 0, integer: true }),
      maxConnectFailures: num('--slo-max-connect-failures', f.sloMaxConnectFailures, { min: 0, integer: true }),
    },
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
