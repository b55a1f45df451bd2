import type { JsMsg } from '@nats-io/jetstream';
import type { QueuedMessage } from '@chorus/shared/bus/payloads';

/** A validated message pulled from JetStream, waiting in a batch. */
export interface InboundMessage {
  msg: JsMsg;
  message: QueuedMessage;
  /** When it was received from JetStream (ms since epoch). */
  pulledAt: number;
}
