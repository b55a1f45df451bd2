import { SpanKind } from '@opentelemetry/api';
import { subjects } from '@chorus/shared/bus/names';
import type { StoredMessage } from '@chorus/shared/bus/payloads';
import { tracer, traceparentOf } from '@chorus/shared/telemetry/tracing';
import type { MessageServiceClient } from '../backend/message-service-client.js';
import type { Published, RoomBroker } from '../ordering/room-broker.js';

/**
 * Stores a sender's message in the stream and says where it went. Resolves once JetStream has it
 * (the sender's ack waits for this, not for the database). The message id is the Nats-Msg-Id, so
 * a retried publish inside the duplicate window is answered with the original's position; a
 * resend (the client says it may have sent this id before) is first looked up in MongoDB, so a
 * resend of any age gets the original's position too and is never stored twice.
 * Every attempt shares one deadline: a stream that does not answer is reported to the sender
 * once, after `deadlineMs`, not once per attempt.
 */
export class MessagePublisher {
  constructor(
    private readonly broker: Pick<RoomBroker, 'publish'>,
    private readonly backend: Pick<MessageServiceClient, 'lookup'>,
    private readonly attempts = 3,
    private readonly deadlineMs = 5_000,
  ) {}

  async publish(message: StoredMessage, resend: boolean): Promise<Published> {
    if (resend) {
      const { pos } = await this.backend.lookup({ room: message.room, id: message.id });
      if (pos !== null) return { pos, duplicate: true };
    }
    const span = tracer().startSpan('jetstream.publish', {
      kind: SpanKind.PRODUCER,
      attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subjects.inbound(message.room), 'chorus.message.id': message.id },
    });
    const traceparent = traceparentOf(span);
    const deadline = Date.now() + this.deadlineMs;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const published = await this.broker.publish(message, traceparent, deadline - Date.now());
          span.setAttribute('chorus.pos', published.pos);
          return published;
        } catch (error) {
          // Same msgID on every try: JetStream keeps one copy even if an earlier try was stored.
          const backoffMs = 100 * attempt;
          if (attempt >= this.attempts || Date.now() + backoffMs >= deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, backoffMs));
        }
      }
    } catch (error) {
      span.recordException(error as Error);
      throw error;
    } finally {
      span.end();
    }
  }
}
