import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { batchingKey, consumerName, settingsBucket, streamName } from '@chorus/shared/bus/names';
import { logServerErrors, natsAuthOptions, type NatsCredentials } from '@chorus/shared/bus/nats-connection';
import type { Logger } from '@chorus/shared/logging/logger';
import { batchSettings, type BatchSettings } from '@chorus/shared/batching/batch-settings';

export interface QueueSample {
  /** pending + ack pending of the message-service consumer. */
  backlog: number;
  /** Stream sequence the queue has reached (delivered + pending): its delta over time is the arrival rate. */
  arrivedSeq: number;
}

/**
 * The autopilot's connection to one ChatCluster's NATS: reads the message-service consumer's
 * backlog from JetStream and writes live batching settings to the KV bucket the services watch.
 */
export class NatsTelemetry {
  private nc: NatsConnection | undefined;
  private jsm: JetStreamManager | undefined;
  private kv: KV | undefined;

  /**
   * `credentials`: the cluster's operator user (its nats-users Secret); absent, anonymously (a NATS
   * without authorization). Violations of the user's permissions are logged on `log`.
   */
  constructor(
    readonly url: string,
    readonly credentials?: NatsCredentials,
    private readonly log?: Logger,
  ) {}

  private async connection(): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
    if (!this.nc || this.nc.isClosed()) {
      this.nc = await connect({ servers: this.url, timeout: 2_000, name: 'chorus-operator-autopilot', maxReconnectAttempts: -1, ...natsAuthOptions(this.credentials) });
      if (this.log) logServerErrors(this.nc, this.log);
      this.jsm = await jetstreamManager(this.nc, { timeout: 2_000 });
      this.kv = undefined;
    }
    return { nc: this.nc, jsm: this.jsm! };
  }

  async sample(): Promise<QueueSample> {
    const { jsm } = await this.connection();
    const info = await jsm.consumers.info(streamName, consumerName);
    return {
      backlog: info.num_pending + info.num_ack_pending,
      arrivedSeq: info.delivered.stream_seq + info.num_pending,
    };
  }

  private async bucket(): Promise<KV> {
    const { nc } = await this.connection();
    // create() opens the bucket when it exists (the services may have made it first).
    this.kv ??= await new Kvm(nc).create(settingsBucket, { history: 5 });
    return this.kv;
  }

  async readSettings(): Promise<BatchSettings | undefined> {
    const entry = await (await this.bucket()).get(batchingKey);
    if (!entry || entry.operation !== 'PUT') return undefined;
    const parsed = batchSettings.safeParse(entry.json());
    return parsed.success ? parsed.data : undefined;
  }

  async writeSettings(settings: BatchSettings): Promise<void> {
    const valid = batchSettings.parse(settings);
    await (await this.bucket()).put(batchingKey, JSON.stringify(valid));
  }

  async close(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    this.kv = undefined;
    await nc?.close().catch(() => {});
  }
}
