import { headers } from '@nats-io/transport-node';
import type { JetStreamClient } from '@nats-io/jetstream';
import { subjects } from '@chorus/shared/bus/names';
import type { QueuedMessage } from '@chorus/shared/bus/payloads';

export function queued(room: string, seq: number, text = `message ${seq}`): QueuedMessage {
  return { id: `${room}-${seq}`, room, seq, sender: 'ann', text, ts: Date.now(), clientMsgId: `c-${room}-${seq}` };
}

/** Publishes like the gateway does: JSON on chorus.in.<room>, Nats-Msg-Id = id (unless overridden). */
export async function enqueue(js: JetStreamClient, message: QueuedMessage, msgId: string = message.id): Promise<void> {
  const h = headers();
  h.set('Nats-Msg-Id', msgId);
  await js.publish(subjects.inbound(message.room), JSON.stringify(message), { headers: h });
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
