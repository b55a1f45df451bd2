import type { NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
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

/**
 * How much the stream holds; see docs/architecture.md "Retention". The stream never removes a
 * message by itself: the message-service trims what MongoDB has (pipeline/stream-trimmer.ts).
 */
export const streamRetention = {
  /** Bytes the stream may hold; a full stream refuses publishes (discard new) rather than drop unwritten messages. */
  maxBytes: 1024 * 1024 * 1024,
  /**
   * Publishes with the same Nats-Msg-Id inside this window are answered as duplicates with the
   * original's sequence. Older resends are found in MongoDB (the lookup RPC), which is why the
   * writer must never lag by more than this: see WriterLag.
   */
  duplicateWindowMs: 2 * 60 * 1000,
} as const;

/**
 * The message stream: the durable log and the ordering authority. A room's order is the order of
 * its subject in the stream; positions are stream sequences. Limits retention (not a work queue):
 * messages stay after the writer stored them, so gateways replay resumes and gaps from it, until
 * the message-service trims them. Every
 * stored message is republished on chorus.live.<room> for live delivery.
 */
export function messageStreamConfig(options: StreamSetupOptions = {}): Partial<StreamConfig> & { name: string } {
  return {
    name: streamName,
    subjects: [subjects.inboundAll],
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.New,
    storage: StorageType.File,
    max_age: 0,
    max_bytes: options.maxBytes ?? streamRetention.maxBytes,
    duplicate_window: streamRetention.duplicateWindowMs * nanosPerMs,
    allow_direct: true,
    republish: { src: subjects.inboundAll, dest: subjects.liveAll },
  };
}

/** The durable pull consumer every message-service replica shares (the MongoDB writer). */
export function messageConsumerConfig(options: StreamSetupOptions = {}): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: consumerName,
    ack_policy: AckPolicy.Explicit,
    ack_wait: (options.ackWaitMs ?? 30_000) * nanosPerMs,
    max_ack_pending: 20_000,
    deliver_policy: DeliverPolicy.All,
  };
}

export interface StreamSetupOptions {
  /**
   * JetStream replicas of the stream (and with it the consumer) when it is created or when given
   * explicitly; absent = keep what exists (1 for a new stream). A NATS cluster wants 3.
   */
  replicas?: number;
  /** How long the writer has to ack a pulled message before JetStream redelivers it (default 30 s). */
  ackWaitMs?: number;
  /** The stream's size limit (default in streamRetention). */
  maxBytes?: number;
  /**
   * Also create the writer's durable consumer, or bring its ack_wait to this config (default
   * true). Gateways pass false: only the writer's side decides its ack_wait.
   */
  consumer?: boolean;
  /**
   * Leave an existing stream as it is (default false). Gateways pass true: the writer's side
   * (message-service, operator, supervisor) owns retention, so a gateway never resets it.
   */
  createOnly?: boolean;
}

/** Fields brought to our config on an existing stream; everything else (replicas, placement) is left alone. */
const managedFields = ['subjects', 'retention', 'discard', 'max_age', 'max_bytes', 'duplicate_window', 'allow_direct', 'republish'] as const;

/**
 * Creates the message stream and the writer's durable consumer if they are missing, and brings
 * existing ones to the config above. Idempotent: the gateway, the message-service and the local
 * supervisor all call it at start-up, so whichever runs first wins and the others are no-ops.
 */
export async function ensureMessageStream(nc: NatsConnection, options: StreamSetupOptions = {}): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const wanted = messageStreamConfig(options);
  let existing: StreamConfig | undefined;
  try {
    existing = (await jsm.streams.info(streamName)).config;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  if (!existing) {
    try {
      await jsm.streams.add({ ...wanted, num_replicas: options.replicas ?? 1 });
    } catch (addError) {
      // Another process created it between our info and add.
      if (!isAlreadyInUse(addError)) throw addError;
    }
  } else if (!options.createOnly) {
    if (existing.retention !== wanted.retention) {
      // JetStream cannot change a stream's retention in place (a v1 work-queue stream); refuse loudly.
      throw new Error(
        `stream ${streamName} exists with retention ${existing.retention}, expected ${wanted.retention}; ` +
          'it was made by an older Chorus: let the message-service drain it, then delete it (nats stream rm CHORUS_MESSAGES)',
      );
    }
    const differs = managedFields.some((field) => JSON.stringify(existing[field]) !== JSON.stringify(wanted[field]));
    const replicasDiffer = options.replicas !== undefined && existing.num_replicas !== options.replicas;
    if (differs || replicasDiffer) {
      await jsm.streams.update(streamName, { ...existing, ...wanted, num_replicas: options.replicas ?? existing.num_replicas });
    }
  }
  if (options.consumer === false) return;
  const consumer = messageConsumerConfig(options);
  // consumers.add with an identical config is accepted by the server; a changed updatable field
  // (ack_wait, max_ack_pending) is applied in place.
  try {
    await jsm.consumers.add(streamName, consumer);
  } catch (error) {
    if (!isAlreadyInUse(error)) throw error;
    await jsm.consumers.update(streamName, consumerName, { ack_wait: consumer.ack_wait, max_ack_pending: consumer.max_ack_pending });
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
