import type { JsMsg } from '@nats-io/jetstream';
import type { StoredMessage } from '@chorus/shared/bus/payloads';

/** A validated message pulled from JetStream, waiting in a batch. */
export interface InboundMessage {
  msg: JsMsg;
  message: StoredMessage;
  /** Its position: the stream sequence. */
  pos: number;
  /** When it was received from JetStream (ms since epoch). */
  pulledAt: number;
}
