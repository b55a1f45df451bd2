import { z } from 'zod';

/**
 * Live batching settings, stored as JSON under `batching` in the `chorus_settings` KV bucket.
 * Writers: the operator's autopilot, the local supervisor, a person with the nats CLI.
 * Readers: every message-service replica, which applies a change without restarting.
 */
/** The range every writer of batching settings stays in (KV, the ChatCluster spec, CLI flags). */
export const batchingLimits = { maxBatchSize: 10_000, maxFlushIntervalMs: 10_000 } as const;

export const batchSettings = z.strictObject({
  batchSize: z.number().int().min(1).max(batchingLimits.maxBatchSize),
  flushIntervalMs: z.number().int().min(1).max(batchingLimits.maxFlushIntervalMs),
  /** Who wrote it, for people reading the bucket ("autopilot", "supervisor", "operator"). */
  source: z.string().max(64).optional(),
});
export type BatchSettings = z.infer<typeof batchSettings>;

export const defaultBatchSettings: BatchSettings = { batchSize: 100, flushIntervalMs: 50 };
