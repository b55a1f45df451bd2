import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout, one line per event; LOG_LEVEL picks the level (default info). */
export function createLogger(service: string, bindings: Record<string, unknown> = {}, destination?: DestinationStream): Logger {
  const options = {
    name: service,
    level: process.env.LOG_LEVEL ?? 'info',
    base: { service, pid: process.pid, ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  // A destination (tests read the log lines back); stdout otherwise.
  return destination ? pino(options, destination) : pino(options);
}
