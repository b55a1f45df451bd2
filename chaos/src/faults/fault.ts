import type { Platform, PlatformOptions } from '@chorus/local/platform';

export interface FaultContext {
  platform: Platform;
  log(line: string): void;
}

export interface FaultOutcome {
  /** What was done and how long each step took, for the report. */
  description: string;
  /**
   * How long a backing server (NATS, Redis, MongoDB) was out: from the signal until it was ready
   * again. 0 for faults of the platform's own services, which must not stall a room for long at all.
   */
  serverOutageMs: number;
}

/** One fault, injected under load; resolves when the platform is whole again. */
export interface Fault {
  /** Before the platform starts: what the fault needs of it (e.g. a relay in front of a server). */
  prepare?(): Promise<Pick<PlatformOptions, 'natsUrlFor'>>;
  inject(context: FaultContext): Promise<FaultOutcome>;
  /** After the platform stopped: releases what prepare() made. */
  close?(): void;
}

export const elapsedSince = (start: number) => Math.round(performance.now() - start);
