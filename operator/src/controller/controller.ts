import type { Logger } from '@chorus/shared/logging/logger';
import { WorkQueue } from './work-queue.js';

export interface Reconciler {
  reconcile(key: string): Promise<{ requeueAfterMs?: number }>;
}

export interface ControllerMetrics {
  reconciled(result: 'success' | 'error', seconds: number): void;
}

/**
 * Workers pulling keys off a work queue and reconciling them, like controller-runtime's
 * controller: an error re-queues the key with per-key exponential backoff, a success resets the
 * backoff and honours requeueAfter (periodic resync).
 */
export class Controller {
  readonly queue: WorkQueue;
  private workers: Promise<void>[] = [];

  constructor(
    private readonly reconciler: Reconciler,
    private readonly logger: Logger,
    private readonly options: { workers?: number; metrics?: ControllerMetrics; baseDelayMs?: number; maxDelayMs?: number } = {},
  ) {
    this.queue = new WorkQueue({
      ...(options.baseDelayMs !== undefined && { baseDelayMs: options.baseDelayMs }),
      ...(options.maxDelayMs !== undefined && { maxDelayMs: options.maxDelayMs }),
    });
  }

  start(): void {
    for (let i = 0; i < (this.options.workers ?? 2); i++) this.workers.push(this.work());
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const started = performance.now();
      try {
        const result = await this.reconciler.reconcile(key);
        this.queue.forget(key);
        if (result.requeueAfterMs) this.queue.addAfter(key, result.requeueAfterMs);
        this.options.metrics?.reconciled('success', (performance.now() - started) / 1000);
      } catch (error) {
        const delay = this.queue.addRateLimited(key);
        this.options.metrics?.reconciled('error', (performance.now() - started) / 1000);
        this.logger.warn({ key, err: error instanceof Error ? error.message : String(error), retryInMs: delay }, 'reconcile failed');
      } finally {
        this.queue.done(key);
      }
    }
  }
}
