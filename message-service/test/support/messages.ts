import { headers } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { consumerName, streamName, subjects } from '@chorus/shared/bus/names';
import type { StoredMessage } from '@chorus/shared/bus/payloads';

/** The payload a gateway stores for the n-th test message of a room. */
export function chat(room: string, n: number, text = `message ${n}`): StoredMessage {
  return { id: `${room}-${n}`, room, sender: 'ann', text, ts: Date.now(), clientMsgId: `c-${room}-${n}` };
}

/**
 * Publishes like the gateway does: JSON on chorus.in.<room>, Nats-Msg-Id = id (unless overridden).
 * Returns the stream sequence JetStream gave it: the message's position.
 */
export async function enqueue(js: JetStreamClient, message: StoredMessage, msgId: string = message.id): Promise<number> {
  const h = headers();
  h.set('Nats-Msg-Id', msgId);
  const ack = await js.publish(subjects.inbound(message.room), JSON.stringify(message), { headers: h });
  return ack.seq;
}

/** Publishes one after another (positions in the order given); returns their positions. */
export async function enqueueInOrder(js: JetStreamClient, messages: readonly StoredMessage[]): Promise<number[]> {
  const positions: number[] = [];
  for (const m of messages) positions.push(await enqueue(js, m));
  return positions;
}

/** Messages of the writer consumer not yet acked (pending + delivered-but-unacked). */
export async function queueDepth(nc: NatsConnection): Promise<number> {
  const info = await (await jetstreamManager(nc)).consumers.info(streamName, consumerName);
  return info.num_pending + info.num_ack_pending;
}

/** Polls `check` until it returns true or the time is up. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
