/** Parses "30", "30s", "1500ms", "2m" into milliseconds; a bare number is seconds. */
export function parseDurationMs(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!match) {
    throw new Error(`"${text}" is not a duration; use e.g. 30s, 1500ms, 2m (a bare number is seconds)`);
  }
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return Math.round(value * factor);
}
