import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { consumerName, roomFromSubject, streamName } from '@chorus/shared/bus/names';
import { storedMessage } from '@chorus/shared/bus/payloads';
import { ensureMessageStream, type StreamSetupOptions } from '@chorus/shared/bus/jetstream-setup';
import type { Logger } from '@chorus/shared/logging/logger';
import type { Batcher } from '@chorus/shared/batching/batcher';
import type { BatchProcessor } from './batch-processor.js';
import type { InboundMessage } from './inbound-message.js';
import type { StatsCollector } from '../stats.js';

export interface ConsumerLoopOptions {
  nc: NatsConnection;
  batcher: Batcher<InboundMessage>;
  processor: BatchProcessor;
  stats: StatsCollector;
  log: Logger;
  /** Messages the client asks JetStream for ahead of processing. */
  bufferSize: number;
  /** Used when the stream or consumer has to be recreated. */
  streamOptions?: StreamSetupOptions;
}

const restartDelayMs = 1_000;

/**
 * Pulls from the shared durable consumer with consume() and feeds the batcher. The iterator form
 * (not the callback form) is used on purpose: the client sends its next pull request only as the
 * iterator advances, so waiting here while the database is behind stops pulling and the backlog
 * stays in JetStream, not in this process's memory.
 */
export class ConsumerLoop {
  private messages: ConsumerMessages | undefined;
  private stopping = false;
  private running: Promise<void> | undefined;

  constructor(private readonly options: ConsumerLoopOptions) {}

  start(): void {
    this.running ??= this.run();
  }

  /** Stops pulling, batches what was already received, and waits until it is written and acked. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.messages?.stop();
    await this.running;
    this.options.batcher.flush();
    this.options.batcher.stop();
    this.options.processor.beginClose();
    await this.options.processor.whenIdle();
  }

  private async run(): Promise<void> {
    const { nc, processor, log, bufferSize } = this.options;
    const js = jetstream(nc);
    while (!this.stopping) {
      try {
        const consumer = await js.consumers.get(streamName, consumerName);
        // expires 10 s (idle heartbeats every 5 s) instead of 30 s: a lost pull is noticed sooner.
        const messages = await consumer.consume({ max_messages: bufferSize, expires: 10_000 });
        this.messages = messages;
        if (this.stopping) messages.stop();
        void this.watchStatus(messages);
        for await (const msg of messages) {
          this.receive(msg);
          // Batches queued or being written beyond this: stop taking messages from the client.
          if (processor.backlog >= processor.backlogLimit) await processor.whenBacklogBelow(processor.backlogLimit);
        }
        if (!this.stopping) throw new Error('consume ended');
      } catch (error) {
        if (this.stopping) break;
        log.warn({ err: error }, 'consuming failed; retrying');
        await new Promise((r) => setTimeout(r, restartDelayMs));
        // The stream or consumer may have been deleted (an operator reset, a test): recreate it.
        await ensureMessageStream(nc, this.options.streamOptions).catch((e: unknown) => log.warn({ err: e }, 'cannot ensure the message stream'));
      }
    }
  }

  private receive(msg: JsMsg): void {
    const pulledAt = Date.now();
    let payload: unknown;
    try {
      payload = msg.json();
    } catch {
      this.reject(msg, 'payload is not JSON');
      return;
    }
    const parsed = storedMessage.safeParse(payload);
    if (!parsed.success) {
      this.reject(msg, parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
      return;
    }
    if (roomFromSubject(msg.subject) !== parsed.data.room) {
      this.reject(msg, `room ${parsed.data.room} does not match subject ${msg.subject}`);
      return;
    }
    this.options.batcher.add({ msg, message: parsed.data, pos: msg.seq, pulledAt });
  }

  /** An invalid payload can never succeed: terminate it so it does not come back and block. */
  private reject(msg: JsMsg, reason: string): void {
    this.options.stats.recordInvalid();
    this.options.log.warn({ subject: msg.subject, streamSeq: msg.seq, reason }, 'invalid queued message terminated');
    msg.term(reason.slice(0, 200));
  }

  private async watchStatus(messages: ConsumerMessages): Promise<void> {
    for await (const status of messages.status()) {
      if (status.type === 'consumer_deleted' || status.type === 'consumer_not_found' || status.type === 'stream_not_found') {
        // The client would wait for it to come back; recreate it instead (the run loop ensures
        // the stream and consumer, then consumes again). Unacked messages stay in the stream.
        this.options.log.warn({ status }, 'message consumer gone; recreating it');
        messages.stop();
        return;
      }
      if (status.type === 'heartbeats_missed') {
        this.options.log.warn({ status }, 'consumer status');
      } else if (status.type !== 'next') {
        // 'next' is every pull request: too chatty even for debug.
        this.options.log.debug({ status }, 'consumer status');
      }
    }
  }
}
