import type { ProfileName, ProfileOptions } from '../profiles/schedule.js';
import type { LoadReport } from '../report/report-types.js';
import type { RunHooks } from '../run/load-run.js';
import type { PhaseSpec } from '../run/phase-steps.js';
import type { RunConfig } from '../run/run-config.js';

/**
 * What the bench reads from one measured phase: the part of the load tester's report that every
 * driver (the Chorus client, a peer's) fills in the same way.
 */
export interface StepReport {
  connections: Pick<LoadReport['connections'], 'failed' | 'failuresByCode'>;
  messages: Pick<LoadReport['messages'], 'sent' | 'acked' | 'skipped' | 'errors' | 'errorsByCode'>;
  deliveries: Pick<LoadReport['deliveries'], 'expected' | 'delivered' | 'lost' | 'duplicates' | 'orderViolations'>;
  latency: LoadReport['latency'];
  throughput: Pick<LoadReport['throughput'], 'offeredPerSec' | 'deliveredPerSec'>;
}

/**
 * A load tester over one population of users: connect and join once, then measure phases over the
 * same connections. The Chorus rows use the load tester's `LoadRun`; each peer has its own.
 */
export interface LoadDriver {
  setup(): Promise<void>;
  warmUpPhase(durationMs: number): PhaseSpec;
  schedulePhase(options: ProfileOptions, profile: ProfileName): PhaseSpec;
  measure(spec: PhaseSpec): Promise<StepReport>;
  close(): Promise<void>;
}

export type LoadDriverFactory = (config: RunConfig, hooks: RunHooks) => LoadDriver;
