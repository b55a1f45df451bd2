import { z } from 'zod';

/**
 * Live batching settings, stored as JSON under `batching` in the `chorus_settings` KV bucket.
 * Writers: the operator's autopilot, the local supervisor, a person with the nats CLI.
 * Readers: every message-service replica, which applies a change without restarting.
 */
export const batchSettings = z.strictObject({
  batchSize: z.number().int().min(1).max(10_000),
  flushIntervalMs: z.number().int().min(1).max(10_000),
  /** Who wrote it, for people reading the bucket ("autopilot", "supervisor", "operator"). */
  source: z.string().max(64).optional(),
});
export type BatchSettings = z.infer<typeof batchSettings>;

export const defaultBatchSettings: BatchSettings = { batchSize: 100, flushIntervalMs: 50 };
