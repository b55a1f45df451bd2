import type { TargetProcess } from './bench-target.js';

/**
 * CPU seconds per process kind between two readings (pid -> CPU seconds so far). A pid missing
 * from `before` counts from 0; a pid missing from `after` (exited) adds nothing.
 */
export function cpuByKind(
  processes: readonly TargetProcess[],
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of processes) {
    const end = after.get(p.pid);
    if (end === undefined) continue;
    out[p.kind] = (out[p.kind] ?? 0) + Math.max(0, end - (before.get(p.pid) ?? 0));
  }
  return out;
}

/** Each kind's share of the total, largest first; empty when nothing was used. */
export function cpuShares(byKind: Readonly<Record<string, number>>): { kind: string; seconds: number; share: number }[] {
  const total = Object.values(byKind).reduce((a, b) => a + b, 0);
  if (total <= 0) return [];
  return Object.entries(byKind)
    .map(([kind, seconds]) => ({ kind, seconds, share: seconds / total }))
    .sort((a, b) => b.seconds - a.seconds);
}
