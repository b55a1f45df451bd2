import type { LoadDriverFactory } from './load-driver.js';

/** One server process of a row, and what kind of work it does (for the CPU profile). */
export interface TargetProcess {
  name: string;
  pid: number;
  /** e.g. "gateway", "NATS", "message-service", "database", "redis", "centrifugo". */
  kind: string;
}

/** One row of the bench: a system under load, and the processes doing its work. */
export interface BenchTarget {
  /** Row label, e.g. "(b) fixed batching 100 / 50 ms". */
  label: string;
  key: string;
  /** Where the load driver connects (gateways, nodes). */
  gateways: string[];
  /** Every process whose CPU counts for this row (gateways, workers, NATS, database, ...). */
  processes(): TargetProcess[];
  /** The load tester speaking this system's protocol; absent: the Chorus load tester (`LoadRun`). */
  driver?: LoadDriverFactory;
  /** Called before the row's first run (apply settings, warm up). */
  prepare(): Promise<void>;
  /** Called after the row's last run. */
  finish(): Promise<void>;
  /** The system's tunable state right now (the platform's batching settings), for the log. */
  describe?(): Promise<string | undefined>;
}
