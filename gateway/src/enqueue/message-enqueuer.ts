import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { streamName, subjects } from '@chorus/shared/bus/names';
import type { QueuedMessage } from '@chorus/shared/bus/payloads';
import { injectTrace, tracer } from '@chorus/shared/telemetry/tracing';

/**
 * Stores a message durably in JetStream. Resolves once the stream has it (the sender's ack waits for
 * this, not for the database). The message id is the Nats-Msg-Id, so a retried publish inside the
 * duplicate window is stored once.
 */
export class MessageEnqueuer {
  private readonly js: JetStreamClient;
  private jsm: JetStreamManager | undefined;

  constructor(private readonly nc: NatsConnection, private readonly timeoutMs = 5_000, private readonly attempts = 3) {
    this.js = jetstream(nc, { timeout: timeoutMs });
  }

  async enqueue(message: QueuedMessage): Promise<void> {
    const span = tracer().startSpan('jetstream.publish', {
      kind: SpanKind.PRODUCER,
      attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subjects.inbound(message.room), 'chorus.message.id': message.id },
    });
    const headers = natsHeaders();
    injectTrace(trace.setSpan(context.active(), span), headers);
    const payload = JSON.stringify(message);
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.js.publish(subjects.inbound(message.room), payload, { msgID: message.id, headers, timeout: this.timeoutMs });
          return;
        } catch (error) {
          // Same msgID on every try: JetStream keeps one copy even if an earlier try was stored.
          if (attempt >= this.attempts) throw error;
          await new Promise((r) => setTimeout(r, 100 * attempt));
        }
      }
    } catch (error) {
      span.recordException(error as Error);
      throw error;
    } finally {
      span.end();
    }
  }

  /** Highest seq of the room still in the stream (0 when none): part of the durable head. */
  async lastQueuedSeq(room: string): Promise<number> {
    this.jsm ??= await jetstreamManager(this.nc);
    try {
      const stored = await this.jsm.streams.getMessage(streamName, { last_by_subj: subjects.inbound(room) });
      return stored ? (stored.json<QueuedMessage>().seq ?? 0) : 0;
    } catch {
      return 0; // no message for that subject
    }
  }
}
