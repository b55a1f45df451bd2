/** What the live display shows; rates are for the last full second. */
export interface LiveStats {
  connected: number;
  sentPerSec: number;
  ackedPerSec: number;
  deliveredPerSec: number;
  deliveryP99Ms: number;
  errors: number;
}

/** Live progress of a run: a bar on a terminal, plain lines in logs (see progress/*.ts). */
export interface ProgressReporter {
  /** A new phase: `total` units of work (users to connect, sends to make, deliveries to await). */
  phase(name: string, total: number): void;
  update(done: number, stats: LiveStats): void;
  /** A line that must not be garbled by the bar. */
  log(line: string): void;
  stop(): void;
}

export const silentProgress: ProgressReporter = {
  phase() {},
  update() {},
  log() {},
  stop() {},
};
