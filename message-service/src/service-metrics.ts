import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { BatchSettings } from '@chorus/shared/batching/batch-settings';
import type { MessageServiceStats } from './stats.js';

/**
 * Prometheus view of the service's counters (read from the stats at scrape time), the batching
 * settings in force (what the autopilot or a person last wrote to the settings bucket, once this
 * replica applied it), and the process's.
 */
export function serviceMetrics(stats: () => MessageServiceStats, settings: () => BatchSettings | undefined): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const counters: [keyof Omit<MessageServiceStats, 'recentBatchSizes'>, string][] = [
    ['processed', 'Messages stored (or found already stored) and acked'],
    ['batches', 'Batches written'],
    ['duplicates', 'Messages already stored (redeliveries, repeated ids)'],
    ['conflicts', 'Messages whose room position belonged to another message'],
    ['failed', 'Messages not written (database error), redelivered later'],
    ['invalid', 'Payloads that failed validation'],
  ];
  for (const [field, help] of counters) {
    new Counter({
      name: `chorus_message_service_${field}_total`,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(stats()[field]);
      },
    });
  }
  const live: [keyof Pick<BatchSettings, 'batchSize' | 'flushIntervalMs'>, string, string][] = [
    ['batchSize', 'chorus_message_service_batch_size', 'Batch size in force'],
    ['flushIntervalMs', 'chorus_message_service_flush_interval_ms', 'Flush interval in force (ms)'],
  ];
  for (const [field, name, help] of live) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const current = settings();
        if (current) this.set(current[field]);
      },
    });
  }
  return registry;
}
