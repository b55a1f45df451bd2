import { jetstreamManager, RetentionPolicy, AckPolicy, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { batchSettings } from '@chorus/shared/batching/batch-settings';
import { messageStreamConfig } from '@chorus/shared/bus/jetstream-setup';
import { batchingKey, consumerName, settingsBucket, streamName } from '@chorus/shared/bus/names';
import type { CheckResult } from './check-result.js';

/**
 * The stream as this version needs it. ensureMessageStream brings limits (max_age, max_bytes, ...)
 * to its config by itself, so only what it cannot change, or what the other services depend on
 * while it has not run yet, is incompatible: retention, the subjects, the live republish.
 */
export async function checkStream(jsm: JetStreamManager): Promise<CheckResult> {
  const name = 'nats.stream';
  const wanted = messageStreamConfig();
  let config;
  try {
    config = (await jsm.streams.info(streamName)).config;
  } catch (error) {
    return { name, ok: false, detail: `stream ${streamName}: ${(error as Error).message}` };
  }
  const problems: string[] = [];
  if (config.retention !== RetentionPolicy.Limits) problems.push(`retention ${config.retention}, this version needs ${RetentionPolicy.Limits} (and cannot change it in place)`);
  for (const subject of wanted.subjects ?? []) if (!config.subjects?.includes(subject)) problems.push(`subjects ${JSON.stringify(config.subjects)} lack ${subject}`);
  if (JSON.stringify(config.republish) !== JSON.stringify(wanted.republish)) problems.push(`republish ${JSON.stringify(config.republish)}, this version delivers from ${JSON.stringify(wanted.republish)}`);
  return problems.length
    ? { name, ok: false, detail: `stream ${streamName}: ${problems.join('; ')}` }
    : { name, ok: true, detail: `stream ${streamName}: retention limits, subjects ${config.subjects?.join(',')}, republish to ${wanted.republish?.dest}, ${config.num_replicas} replica(s)` };
}

export async function checkConsumer(jsm: JetStreamManager): Promise<CheckResult> {
  const name = 'nats.consumer';
  try {
    const info = await jsm.consumers.info(streamName, consumerName);
    if (info.config.ack_policy !== AckPolicy.Explicit) return { name, ok: false, detail: `consumer ${consumerName}: ack policy ${info.config.ack_policy}, the writer needs explicit acks` };
    if (info.config.deliver_subject) return { name, ok: false, detail: `consumer ${consumerName} is a push consumer; the writer pulls` };
    return { name, ok: true, detail: `consumer ${consumerName}: pull, explicit acks, ${info.num_pending} pending` };
  } catch (error) {
    return { name, ok: false, detail: `consumer ${consumerName}: ${(error as Error).message}` };
  }
}

/** The live batching settings the message-services read must parse with this version's schema. */
export async function checkSettings(nc: NatsConnection): Promise<CheckResult> {
  const name = 'nats.settings';
  try {
    const kv = await new Kvm(nc).open(settingsBucket);
    const entry = await kv.get(batchingKey);
    if (!entry || entry.length === 0) return { name, ok: true, detail: `${settingsBucket}/${batchingKey} not written yet` };
    const parsed = batchSettings.safeParse(JSON.parse(entry.string()));
    if (!parsed.success) return { name, ok: false, detail: `${settingsBucket}/${batchingKey} does not parse: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
    return { name, ok: true, detail: `${settingsBucket}/${batchingKey} = ${entry.string()}` };
  } catch (error) {
    return { name, ok: false, detail: `${settingsBucket}: ${(error as Error).message}` };
  }
}

export async function natsChecks(nc: NatsConnection): Promise<CheckResult[]> {
  const jsm = await jetstreamManager(nc, { timeout: 5_000 });
  return [await checkStream(jsm), await checkConsumer(jsm), await checkSettings(nc)];
}
