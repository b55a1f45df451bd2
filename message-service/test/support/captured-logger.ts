import { pino, type Logger } from 'pino';

/** A pino logger whose JSON lines are kept in memory, so tests can assert on what was logged. */
export function capturedLogger(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const raw: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void raw.push(line) });
  return { log, lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>) };
}
