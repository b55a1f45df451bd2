import { readFileSync } from 'node:fs';

/** Kernel clock ticks per second for /proc times; 100 on every Linux this runs on (getconf CLK_TCK). */
const ticksPerSecond = 100;

/**
 * User + system CPU seconds a process has used so far, from /proc/<pid>/stat (fields 14 and 15,
 * counted after the parenthesised command name, which may itself contain spaces). Undefined when
 * the process is gone.
 */
export function processCpuSeconds(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return cpuSecondsFromStat(stat);
}

export function cpuSecondsFromStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (14) is fields[11] and stime (15) is fields[12].
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** CPU seconds of a set of processes; pids that have exited count as 0. */
export function totalCpuSeconds(pids: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) out.set(pid, processCpuSeconds(pid) ?? 0);
  return out;
}

/** CPU used between two readings, per pid present in `after` (a pid new since `before` counts from 0). */
export function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, seconds] of after) sum += Math.max(0, seconds - (before.get(pid) ?? 0));
  return sum;
}
