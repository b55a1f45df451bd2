/** The load tester as a library: what the e2e tests and the bench build on. The CLI is cli.ts. */
export { LoadRun, runLoad, type RunHooks } from './run/load-run.js';
export type { PhaseSpec } from './run/phase-steps.js';
export type { RunConfig, SloThresholds } from './run/run-config.js';
export { runConfigFromFlags, UsageError, type RawFlags } from './config/cli-options.js';
export type { LoadReport } from './report/report-types.js';
export { formatSummary } from './report/summary-table.js';
export { writeReports } from './report/write-reports.js';
export { startBareBroadcastServer, type BareBroadcastServer } from './bench/bare-broadcast-server.js';
