import { createHash } from 'node:crypto';

/**
 * The message id is derived from (sender, client message id), so a client that retries a send
 * after a lost ack produces the same id: JetStream drops the duplicate (Nats-Msg-Id) and MongoDB's
 * unique index drops a redelivery.
 */
export function messageIdFor(sender: string, clientMsgId: string): string {
  return createHash('sha256').update(sender).update('\0').update(clientMsgId).digest('base64url').slice(0, 22);
}
