import type { NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstreamManager,
  type ConsumerConfig,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { consumerName, settingsBucket, streamName, subjects } from './names.js';

const nanosPerMs = 1_000_000;

/** The message stream: a work queue, so a message leaves the stream once a message-service acks it. */
export const messageStreamConfig = {
  name: streamName,
  subjects: [subjects.inboundAll],
  retention: RetentionPolicy.Workqueue,
  storage: StorageType.File,
  // Publishes with the same Nats-Msg-Id inside this window are dropped, so a gateway retrying a
  // publish whose ack got lost does not enqueue the message twice.
  duplicate_window: 2 * 60 * 1000 * nanosPerMs,
} satisfies Partial<StreamConfig>;

/** The durable pull consumer every message-service replica shares. */
export const messageConsumerConfig = {
  durable_name: consumerName,
  ack_policy: AckPolicy.Explicit,
  ack_wait: 30 * 1000 * nanosPerMs,
  max_ack_pending: 20_000,
  deliver_policy: DeliverPolicy.All,
} satisfies Partial<ConsumerConfig>;

export interface StreamSetupOptions {
  /**
   * JetStream replicas of the stream (and with it the consumer) when it is created or when given
   * explicitly; absent = keep what exists (1 for a new stream). A NATS cluster wants 3.
   */
  replicas?: number;
}

/**
 * Creates the message stream and the durable consumer if they are missing, and brings an existing
 * one to the config above without touching anything else (an operator may have raised its
 * replicas). Idempotent: the gateway, the message-service and the local supervisor all call it at
 * start-up with this same config, so whichever runs first wins and the others are no-ops.
 */
export async function ensureMessageStream(nc: NatsConnection, options: StreamSetupOptions = {}): Promise<void> {
  const jsm = await jetstreamManager(nc);
  let existing: StreamConfig | undefined;
  try {
    existing = (await jsm.streams.info(streamName)).config;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  if (!existing) {
    try {
      await jsm.streams.add({ ...messageStreamConfig, num_replicas: options.replicas ?? 1 });
    } catch (addError) {
      // Another process created it between our info and add.
      if (!isAlreadyInUse(addError)) throw addError;
    }
  } else {
    if (existing.retention !== messageStreamConfig.retention) {
      // A limits or interest stream would keep or drop messages behind our back; refuse loudly.
      throw new Error(`stream ${streamName} exists with retention ${existing.retention}, expected ${messageStreamConfig.retention}; delete it or fix it by hand`);
    }
    const subjectsDiffer = existing.subjects?.length !== 1 || existing.subjects[0] !== subjects.inboundAll;
    const replicasDiffer = options.replicas !== undefined && existing.num_replicas !== options.replicas;
    if (subjectsDiffer || existing.duplicate_window !== messageStreamConfig.duplicate_window || replicasDiffer) {
      await jsm.streams.update(streamName, {
        ...existing,
        subjects: messageStreamConfig.subjects,
        duplicate_window: messageStreamConfig.duplicate_window,
        num_replicas: options.replicas ?? existing.num_replicas,
      });
    }
  }
  // consumers.add with an identical config is accepted by the server; a changed updatable field
  // (ack_wait, max_ack_pending) is applied in place.
  try {
    await jsm.consumers.add(streamName, messageConsumerConfig);
  } catch (error) {
    if (!isAlreadyInUse(error)) throw error;
    await jsm.consumers.update(streamName, consumerName, {
      ack_wait: messageConsumerConfig.ack_wait,
      max_ack_pending: messageConsumerConfig.max_ack_pending,
    });
  }
}

/** The KV bucket holding live settings; created if missing, opened as is when it exists. */
export async function ensureSettingsBucket(nc: NatsConnection, options: StreamSetupOptions = {}): Promise<KV> {
  const kvm = new Kvm(nc);
  try {
    return await kvm.create(settingsBucket, { history: 5, ...(options.replicas !== undefined && { replicas: options.replicas }) });
  } catch (error) {
    // Exists with another config (e.g. a person created it with the nats CLI): use it as it is.
    if (!isAlreadyInUse(error)) throw error;
    return kvm.open(settingsBucket);
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && (error.status === 404 || /not found/i.test(error.message));
}
function isAlreadyInUse(error: unknown): boolean {
  return error instanceof Error && /already in use|already exists/i.test(error.message);
}
