import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { BatchTuner, type BatchBounds } from '@chorus/shared/batching/batch-tuner';
import { batchingKey, consumerName, streamName } from '@chorus/shared/bus/names';
import type { Logger } from '@chorus/shared/logging/logger';

/** Bounds the local supervisor tunes within (the operator takes them from the ChatCluster spec). */
export const localBatchBounds: BatchBounds = {
  minBatchSize: 10,
  maxBatchSize: 1000,
  minFlushMs: 5,
  maxFlushMs: 50,
  targetLatencyMs: 100,
};

/**
 * The local platform's autopilot: once a second it reads the message-service consumer's backlog
 * and the stream's arrival rate, runs the same pure BatchTuner as the operator, and writes a changed
 * setting to the KV key the message-services watch.
 */
export async function startAutopilotLoop(options: {
  nc: NatsConnection;
  kv: KV;
  log: Logger;
  bounds?: BatchBounds;
  periodMs?: number;
}): Promise<{ stop(): void }> {
  const jsm = await jetstreamManager(options.nc);
  const tuner = new BatchTuner(options.bounds ?? localBatchBounds);
  let lastSeq: number | undefined;
  let lastTime = performance.now();
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const [consumer, stream] = await Promise.all([jsm.consumers.info(streamName, consumerName), jsm.streams.info(streamName)]);
      const now = performance.now();
      const seq = stream.state.last_seq;
      const rate = lastSeq === undefined ? 0 : ((seq - lastSeq) * 1000) / Math.max(1, now - lastTime);
      lastSeq = seq;
      lastTime = now;
      const backlog = consumer.num_pending + consumer.num_ack_pending;
      const tuning = tuner.observe({ backlog, rate, timeMs: now });
      if (tuning.changed) {
        const settings = { batchSize: tuning.batchSize, flushIntervalMs: tuning.flushIntervalMs, source: 'autopilot' };
        await options.kv.put(batchingKey, JSON.stringify(settings));
        options.log.info({ backlog, rate: Math.round(rate), ...settings }, 'autopilot changed batching');
      }
    } catch (error) {
      options.log.warn({ err: error }, 'autopilot could not read the queue');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), options.periodMs ?? 1000);
  return { stop: () => clearInterval(timer) };
}
