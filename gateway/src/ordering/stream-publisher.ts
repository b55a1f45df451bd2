import { createInbox, headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { inboxPrefixOfConnection } from '@chorus/shared/bus/nats-connection';
import type { Published } from './room-broker.js';

interface Waiting {
  resolve: (published: Published) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  sentAt: number;
}

/**
 * JetStream publishes that share one reply subscription: each publish is a plain NATS publish
 * with a reply subject under this gateway's inbox, and the stream's PubAck comes back there. The
 * client's request() (what JetStreamClient.publish uses) costs an Error object per call even when
 * it succeeds (its cancel after the reply); on the send path that was ~5% of a gateway's CPU.
 * Bounded: at most `maxInFlight` publishes wait, each for at most `timeoutMs`.
 */
export class StreamPublisher {
  private readonly prefix: string;
  private readonly waiting = new Map<string, Waiting>();
  private next = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
    private readonly maxInFlight = 10_000,
  ) {
    // Under the connection's own inbox prefix: the only replies its NATS user may subscribe to.
    this.prefix = `${createInbox(inboxPrefixOfConnection(nc))}.`;
    nc.subscribe(`${this.prefix}*`, {
      callback: (error, msg) => {
        if (!error) this.settle(msg);
      },
    });
  }

  /** Stores `payload` on `subject`; `msgId` makes a retry inside the stream's window a duplicate. */
  publish(subject: string, payload: string, msgId: string, traceparent?: string, timeoutMs = this.timeoutMs): Promise<Published> {
    if (this.waiting.size >= this.maxInFlight) return Promise.reject(new Error(`${this.maxInFlight} publishes are waiting for the stream`));
    const token = (++this.next).toString(36);
    const headers = natsHeaders();
    headers.set('Nats-Msg-Id', msgId);
    if (traceparent) headers.set('traceparent', traceparent);
    return new Promise<Published>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(token);
        reject(new Error(`the stream did not acknowledge within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(token, { resolve, reject, timer, sentAt: Date.now() });
      try {
        this.nc.publish(subject, payload, { reply: this.prefix + token, headers });
      } catch (error) {
        // Closed or draining connection: nothing was sent.
        clearTimeout(timer);
        this.waiting.delete(token);
        reject(error as Error);
      }
    });
  }

  /** When the oldest publish still waiting for its PubAck was sent; undefined when none waits. */
  oldestWaitingSince(): number | undefined {
    const oldest = this.waiting.values().next();
    return oldest.done ? undefined : oldest.value.sentAt;
  }

  /** Fails every waiting publish at once: their PubAcks would come on a link that is gone. */
  failWaiting(error: Error): void {
    for (const waiting of this.waiting.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(error);
    }
    this.waiting.clear();
  }

  private settle(msg: Msg): void {
    const token = msg.subject.slice(this.prefix.length);
    const waiting = this.waiting.get(token);
    if (!waiting) return; // timed out already
    this.waiting.delete(token);
    clearTimeout(waiting.timer);
    const outcome = pubAckOf(msg.headers, msg.data);
    if (outcome instanceof Error) waiting.reject(outcome);
    else waiting.resolve(outcome);
  }
}

/** The stream's answer: a PubAck, an API error, or the server's "no responders" status. */
function pubAckOf(headers: MsgHdrs | undefined, data: Uint8Array): Published | Error {
  if (headers?.code === 503) return new Error('no stream takes this subject (no responders)');
  let ack: unknown;
  try {
    ack = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString());
  } catch {
    return new Error('the stream answered a publish with invalid JSON');
  }
  const { seq, duplicate, error } = (ack ?? {}) as { seq?: unknown; duplicate?: unknown; error?: { description?: unknown; err_code?: unknown } };
  if (error) return new Error(`the stream refused the publish: ${String(error.description)} (${String(error.err_code)})`);
  if (!Number.isSafeInteger(seq) || (seq as number) < 1 || (duplicate !== undefined && typeof duplicate !== 'boolean')) {
    return new Error('the stream answered a publish without a valid sequence');
  }
  return { pos: seq as number, duplicate: duplicate === true };
}
