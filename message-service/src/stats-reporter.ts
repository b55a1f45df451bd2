import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Logger } from '@chorus/shared/logging/logger';
import { quantile, type StatsCollector } from './stats.js';

export interface QueueDepthSource {
  /** Messages waiting in JetStream plus delivered-but-unacked ones; undefined when unknown. */
  queueDepth(): Promise<number | undefined>;
}

const nsPerMs = 1e6;

/**
 * Once per interval while busy, one structured log line: processed, queue depth, rate, mean batch
 * size, p99 flush time, event-loop delay and heap. Idle intervals print nothing.
 */
export class StatsReporter {
  private timer: NodeJS.Timeout | undefined;
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  private reporting = false;

  constructor(
    private readonly stats: StatsCollector,
    private readonly depth: QueueDepthSource,
    private readonly log: Logger,
    private readonly intervalMs = 1_000,
  ) {}

  start(): void {
    this.loopDelay.enable();
    this.stats.takeWindow();
    this.timer = setInterval(() => void this.report(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.loopDelay.disable();
  }

  private async report(): Promise<void> {
    if (this.reporting) return; // a slow queue-depth look-up must not stack reports
    this.reporting = true;
    try {
      const window = this.stats.takeWindow();
      if (window.batches === 0) {
        this.loopDelay.reset();
        return;
      }
      const seconds = Math.max(0.001, (window.endedAt - window.startedAt) / 1000);
      // Bounded: a look-up that hangs (NATS unreachable) must not stop the stats lines.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(100, this.intervalMs / 2))));
      const queueDepth = await Promise.race([this.depth.queueDepth().catch(() => undefined), timeout]);
      clearTimeout(timer);
      this.log.info(
        {
          processed: window.processed,
          queueDepth: queueDepth ?? null,
          ratePerSec: Math.round(window.processed / seconds),
          batches: window.batches,
          meanBatchSize: round1(window.batchSizeSum / window.batches),
          p99FlushMs: round1(quantile(window.flushDurationsMs, 0.99)),
          eventLoopDelayP99Ms: round1(this.loopDelay.percentile(99) / nsPerMs),
          eventLoopDelayMeanMs: round1(this.loopDelay.mean / nsPerMs),
          heapUsedMb: round1(process.memoryUsage().heapUsed / (1024 * 1024)),
        },
        'stats',
      );
      this.loopDelay.reset();
    } finally {
      this.reporting = false;
    }
  }
}

const round1 = (n: number): number => (Number.isFinite(n) ? Math.round(n * 10) / 10 : 0);
