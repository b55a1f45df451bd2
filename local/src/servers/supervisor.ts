import type { Logger } from '@chorus/shared/logging/logger';
import type { ManagedProcess, ProcessExit } from './managed-process.js';

export interface RestartPolicy {
  /** Wait before the first restart after a crash. */
  initialDelayMs: number;
  /** The wait doubles with every crash in a row, up to this. */
  maxDelayMs: number;
  /** A process that ran this long before it crashed starts again from initialDelayMs. */
  resetAfterMs: number;
}

/** As a kubelet's CrashLoopBackOff, scaled to a laptop: 1 s, 2 s, 4 s ... 30 s. */
export const defaultRestartPolicy: RestartPolicy = { initialDelayMs: 1_000, maxDelayMs: 30_000, resetAfterMs: 60_000 };

type Supervised = Pick<ManagedProcess, 'name' | 'pid' | 'running' | 'start' | 'onExit'>;

/**
 * Restarts processes that end without being asked to (a crash, an OOM kill, `kill -9`), with
 * exponential backoff and a log line for each exit and each restart. A process stopped through
 * its stop() is left alone.
 */
export class Supervisor {
  private readonly delays = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly restarting = new Set<string>();
  private stopped = false;

  constructor(
    private readonly log: Logger,
    private readonly policy: RestartPolicy = defaultRestartPolicy,
  ) {}

  watch(process: Supervised): void {
    process.onExit((exit) => {
      // An exit during our own restart attempt is that attempt's failure, handled where it is awaited.
      if (exit.requested || this.stopped || this.restarting.has(process.name)) return;
      this.scheduleRestart(process, exit);
    });
  }

  /** No more restarts (the platform is stopping). */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private scheduleRestart(process: Supervised, exit: ProcessExit | { error: string }): void {
    const previous = this.delays.get(process.name);
    const crashedSoon = 'ranMs' in exit ? exit.ranMs < this.policy.resetAfterMs : true;
    const delayMs = previous !== undefined && crashedSoon ? Math.min(previous * 2, this.policy.maxDelayMs) : this.policy.initialDelayMs;
    this.delays.set(process.name, delayMs);
    const how = 'ranMs' in exit ? { code: exit.code, signal: exit.signal, ranMs: exit.ranMs } : { error: exit.error };
    this.log.warn({ process: process.name, ...how, restartInMs: delayMs }, `${process.name} exited; restarting in ${delayMs} ms`);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.restart(process);
    }, delayMs);
    this.timers.add(timer);
  }

  private async restart(process: Supervised): Promise<void> {
    if (this.stopped || process.running) return; // someone else started it meanwhile
    this.restarting.add(process.name);
    try {
      await process.start();
      this.log.info({ process: process.name, pid: process.pid }, `${process.name} restarted`);
    } catch (error) {
      if (!this.stopped) this.scheduleRestart(process, { error: (error as Error).message.split('\n', 1)[0] ?? 'start failed' });
    } finally {
      this.restarting.delete(process.name);
    }
  }
}
