import type { FrameRateSettings } from './frame-limiter.js';
import { defaultHttpLimits, type HttpLimits } from './http-limits.js';

/** Every abuse limit a gateway enforces; docs/limits.md lists them with their env variables. */
export interface GatewayLimits extends FrameRateSettings {
  /** Open sockets of one user over the cluster (per gateway while Redis is down). */
  socketsPerUser: number;
  http: HttpLimits;
}

export const defaultGatewayLimits: GatewayLimits = {
  socketSends: { ratePerSec: 20, burst: 100 },
  userSends: { ratePerSec: 50, burst: 200 },
  socketFrames: { ratePerSec: 50, burst: 200 },
  socketsPerUser: 20,
  http: defaultHttpLimits,
};

/** Limits with some of them overridden (config and tests give only what they change). */
export type GatewayLimitOverrides = Partial<Omit<GatewayLimits, 'http'>> & { http?: Partial<HttpLimits> };

export function gatewayLimits(overrides: GatewayLimitOverrides = {}): GatewayLimits {
  return { ...defaultGatewayLimits, ...overrides, http: { ...defaultGatewayLimits.http, ...overrides.http } };
}
