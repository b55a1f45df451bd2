import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { MessageServiceStats } from './stats.js';

/** Prometheus view of the service's counters (read from the stats at scrape time) and the process's. */
export function serviceMetrics(stats: () => MessageServiceStats): Registry {
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
  return registry;
}
