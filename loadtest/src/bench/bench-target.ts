/** One row of the bench: something that speaks the gateway protocol, and the processes doing its work. */
export interface BenchTarget {
  /** Row label, e.g. "(b) fixed batching 100 / 50 ms". */
  label: string;
  key: string;
  gateways: string[];
  /** Every process whose CPU counts for this row (gateways, workers, NATS, database, ...). */
  pids(): number[];
  /** Called before the row's first run (apply settings, warm up). */
  prepare(): Promise<void>;
  /** Called after the row's last run. */
  finish(): Promise<void>;
  /** The system's tunable state right now (the platform's batching settings), for the log. */
  describe?(): Promise<string | undefined>;
}
