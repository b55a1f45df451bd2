import { MongoClient, type MongoClientOptions } from 'mongodb';
import type { NatsConnection } from '@nats-io/transport-node';
import { subjects } from '@chorus/shared/bus/names';
import { historyRequest, lookupRequest, roomAdminRequest, roomsRequest } from '@chorus/shared/bus/payloads';
import { RoomStream } from '@chorus/shared/bus/room-stream';
import { ensureMessageStream, ensureSettingsBucket, type StreamSetupOptions } from '@chorus/shared/bus/jetstream-setup';
import { connectNats } from '@chorus/shared/bus/nats-connection';
import { createLogger, type Logger } from '@chorus/shared/logging/logger';
import { defaultBatchSettings, type BatchSettings } from '@chorus/shared/batching/batch-settings';
import { Batcher } from '@chorus/shared/batching/batcher';
import { BatchProcessor } from './pipeline/batch-processor.js';
import { BatchWriter } from './pipeline/batch-writer.js';
import { ConsumerLoop } from './pipeline/consumer-loop.js';
import type { InboundMessage } from './pipeline/inbound-message.js';
import { LiveSettings } from './pipeline/live-settings.js';
import { RetentionWatch } from './pipeline/retention-watch.js';
import { StreamTrimmer, defaultTrimSettings, type TrimSettings } from './pipeline/stream-trimmer.js';
import { WriterProgress } from './pipeline/writer-progress.js';
import { HistoryHandler } from './rpc/history-handler.js';
import { LookupHandler } from './rpc/lookup-handler.js';
import { QueryGate } from './rpc/query-gate.js';
import { RoomsHandler } from './rpc/rooms-handler.js';
import { RoomLimits, defaultRoomLimits, type RoomLimitSettings } from './rpc/room-limits.js';
import { RoomAdminHandler } from './rpc/room-admin-handler.js';
import { EditLeases } from './rooms/edit-leases.js';
import { MemberStore } from './rooms/member-store.js';
import { RpcServer } from './rpc/rpc-server.js';
import { collectionsOf } from './storage/collections.js';
import { ensureIndexes } from './storage/indexes.js';
import { startHealthServer, type HealthServer } from './health-server.js';
import { serviceMetrics } from './service-metrics.js';
import { StatsCollector, type MessageServiceStats } from './stats.js';
import { StatsReporter } from './stats-reporter.js';

export interface MessageServiceConfig {
  natsUrl: string;
  mongoUri: string;
  /** Database name (default `chorus`). */
  mongoDb?: string;
  /** HTTP port of /metrics, /healthz and /readyz; 0 or absent = none. */
  metricsPort?: number;
  /** Address the health server binds (default 127.0.0.1; 0.0.0.0 in a pod). */
  metricsHost?: string;
  /** NATS connection name, shown in the server's connection list (default `message-service`). */
  name?: string;
  logger?: Logger;
  /** Settings in force while the KV key `batching` is absent (default 100 messages / 50 ms). */
  defaultBatching?: BatchSettings;
  /** Stats log line period in ms (default 1000); 0 = no stats line. */
  statsIntervalMs?: number;
  /** Messages the JetStream client pulls ahead (default: 2 x batch size, 256..5000). */
  consumeBufferSize?: number;
  /** JetStream replicas for the stream and settings bucket when this replica creates them (default 1). */
  jetstreamReplicas?: number;
  /** The stream's size limit and the writer's ack_wait (tests shorten ack_wait). */
  stream?: Omit<StreamSetupOptions, 'replicas'>;
  /** What the stream keeps of the written messages (pipeline/stream-trimmer.ts). */
  trim?: Partial<TrimSettings>;
  /** insertMany calls in flight at once (default 2). */
  maxInFlightWrites?: number;
  /** Distinct history/head queries run at once by this replica (default 8). */
  maxConcurrentReads?: number;
  /** Extra MongoDB driver options; they override the service's own (serverSelectionTimeoutMS 10 s). */
  mongoOptions?: MongoClientOptions;
  /** Quotas on rooms and memberships (defaults in rpc/room-limits.ts, docs/limits.md). */
  roomLimits?: Partial<RoomLimitSettings>;
  /** How long an edit lease lasts without renewal (default 30 s; tests shorten it). */
  editLeaseMs?: number;
  /**
   * On close, RPCs in flight are answered or, after this long, dropped (default 5 s: the gateway's
   * own request deadline, after which it has given up and retries elsewhere).
   */
  rpcDrainMs?: number;
  /** Called after every processed batch (tests observe batch sizes). */
  onBatch?: (info: { size: number; processed: number; durationMs: number }) => void;
}

export interface MessageService {
  /**
   * Drains, then stops: not ready at once; stops pulling, writes and acks the batch in flight, and
   * (at the same time) answers or drops its in-flight RPCs; then closes every connection.
   */
  close(): Promise<void>;
  /** Counters since start. */
  stats(): MessageServiceStats;
  /** The batching settings in force now. */
  settings(): BatchSettings;
  /** True while connected to NATS and MongoDB and consuming. */
  ready(): boolean;
  /** Bound port of /metrics and health (undefined when off). */
  readonly metricsPort: number | undefined;
  /** The service's NATS connection (for inspection in tests; do not close it). */
  readonly nc: NatsConnection;
}

/**
 * Starts a message-service replica: connects to NATS and MongoDB, makes sure indexes, stream,
 * consumer and settings bucket exist, then consumes the shared durable consumer in batches
 * (insertMany -> ack) and serves the history, rooms and look-up RPCs.
 */
export async function startMessageService(config: MessageServiceConfig): Promise<MessageService> {
  const log = config.logger ?? createLogger('message-service');
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanUp = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((error: unknown) => log.warn({ err: error }, 'close step failed'));
    cleanups.length = 0;
  };

  // Flags read by /readyz; the health server starts first so liveness answers while we wait for
  // NATS or MongoDB at start-up (not ready, but not restarted either).
  let natsConnected = false;
  let mongoHealthy = false;
  let consuming = false;
  let isClosed = (): boolean => false;
  let writesFailing = (): boolean => false;
  let stopping = false;
  const ready = () => !stopping && consuming && natsConnected && mongoHealthy && !writesFailing() && !isClosed();

  try {
    const stats = new StatsCollector();
    let settings: LiveSettings | undefined; // set once the settings bucket is read
    let health: HealthServer | undefined;
    if (config.metricsPort) {
      health = await startHealthServer({ port: config.metricsPort, host: config.metricsHost ?? '127.0.0.1', ready, metrics: serviceMetrics(() => stats.snapshot(), () => settings?.current()) });
      const server = health;
      cleanups.push(() => server.close());
    }

    const nc = await connectNats(config.natsUrl, config.name ?? 'message-service');
    cleanups.push(() => nc.drain());
    natsConnected = true;
    isClosed = () => nc.isClosed();
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') natsConnected = false;
        else if (status.type === 'reconnect') natsConnected = true;
      }
    })();

    const mongo = new MongoClient(config.mongoUri, {
      appName: config.name ?? 'message-service',
      // Fail a write well inside JetStream's 30 s ack_wait when the database is gone, so the
      // batch is nak'ed by us rather than redelivered behind our back.
      serverSelectionTimeoutMS: 10_000,
      ...config.mongoOptions,
    });
    await mongo.connect();
    cleanups.push(() => mongo.close());
    mongoHealthy = true;
    // The driver marks the server unknown on a failed operation or heartbeat, and writable again
    // once it answers: readiness follows that.
    mongo.on('topologyDescriptionChanged', (event) => (mongoHealthy = event.newDescription.hasDataBearingServers));
    const collections = collectionsOf(mongo.db(config.mongoDb ?? 'chorus'));
    await ensureIndexes(collections);

    const streamOptions: StreamSetupOptions = { ...config.stream, ...(config.jetstreamReplicas !== undefined && { replicas: config.jetstreamReplicas }) };
    await ensureMessageStream(nc, streamOptions);
    const kv = await ensureSettingsBucket(nc, streamOptions);

    const processor = new BatchProcessor({
      writer: new BatchWriter(collections.messages),
      stats,
      log,
      onBatch: config.onBatch,
      maxInFlightWrites: config.maxInFlightWrites,
    });
    writesFailing = () => processor.failing;
    let batcher: Batcher<InboundMessage> | undefined;
    const live = new LiveSettings(kv, log, (s) => batcher?.setLimits(s), config.defaultBatching ?? defaultBatchSettings);
    const initial = await live.start();
    settings = live;
    cleanups.push(() => live.stop());
    batcher = new Batcher<InboundMessage>(initial, (items) => processor.enqueue(items));

    const bufferSize = config.consumeBufferSize ?? Math.min(5_000, Math.max(256, 2 * initial.batchSize));
    const loop = new ConsumerLoop({ nc, batcher, processor, stats, log, bufferSize, streamOptions });
    loop.start();
    consuming = true;
    let loopStopped: Promise<void> | undefined;
    const stopLoop = () => (loopStopped ??= (async () => {
      consuming = false;
      await loop.stop();
    })());
    cleanups.push(stopLoop);

    const rpc = new RpcServer(nc, log);
    // Reads of stored messages (history pages, heads, look-ups) share one gate per replica.
    const reads = new QueryGate(config.maxConcurrentReads ?? 8);
    const stream = new RoomStream(nc);
    const writer = new WriterProgress(nc);
    const maxReplyBytes = () => Math.floor((nc.info?.max_payload ?? 1024 * 1024) * 0.9);
    const history = new HistoryHandler(collections.messages, stream, writer, reads, maxReplyBytes, new MemberStore(collections));
    const roomLimits = new RoomLimits(collections, { ...defaultRoomLimits, ...config.roomLimits });
    cleanups.push(() => roomLimits.flush()); // after the RPCs stop (cleanups run in reverse)
    const rooms = new RoomsHandler(collections, nc, stream, reads, roomLimits);
    const roomAdmin = new RoomAdminHandler(collections, new EditLeases(collections.leases, collections.rooms, config.editLeaseMs), nc, (room) => rooms.head(room, undefined), roomLimits);
    const lookups = new LookupHandler(collections.messages, writer, reads);
    rpc.serve(subjects.historyRpc, historyRequest, (request, deadline) => history.handle(request, deadline));
    rpc.serve(subjects.roomsRpc, roomsRequest, (request, deadline) => rooms.handle(request, deadline));
    rpc.serve(subjects.roomAdminRpc, roomAdminRequest, (request) => roomAdmin.handle(request));
    rpc.serve(subjects.lookupRpc, lookupRequest, (request, deadline) => lookups.handle(request, deadline));
    let rpcStopped: Promise<void> | undefined;
    const stopRpc = () => (rpcStopped ??= rpc.close(config.rpcDrainMs ?? 5_000));
    cleanups.push(stopRpc);

    const trimSettings = { ...defaultTrimSettings, ...config.trim };
    const retention = new RetentionWatch(nc, writer, new StreamTrimmer(nc, trimSettings), log, trimSettings.retainMs);
    retention.start();
    cleanups.push(async () => retention.stop());
    if (config.statsIntervalMs !== 0) {
      const reporter = new StatsReporter(
        stats,
        {
          queueDepth: async () => (await writer.lag()).unwritten,
        },
        log,
        config.statsIntervalMs ?? 1_000,
      );
      reporter.start();
      cleanups.push(async () => reporter.stop());
    }

    log.info(
      { batchSize: initial.batchSize, flushIntervalMs: initial.flushIntervalMs, bufferSize, metricsPort: health?.port },
      'message-service started',
    );
    let closing: Promise<void> | undefined;
    return {
      close: () =>
        (closing ??= (async () => {
          stopping = true;
          // Pulling stops and the RPCs drain together; the rest of the clean-up follows.
          await Promise.all([stopLoop(), stopRpc()]);
          await cleanUp();
          log.info('message-service stopped');
        })()),
      stats: () => stats.snapshot(),
      settings: () => live.current(),
      ready,
      metricsPort: health?.port,
      nc,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
