import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { republishHeaders, subjects } from '@chorus/shared/bus/names';
import { storedMessage, type StoredMessage } from '@chorus/shared/bus/payloads';
import { RoomStream, type StreamRun } from '@chorus/shared/bus/room-stream';
import type { Logger } from '@chorus/shared/logging/logger';
import type { LiveMessage, Published, RoomBroker } from './room-broker.js';
import { StalledLinkWatch } from './stalled-link-watch.js';
import { StreamPublisher } from './stream-publisher.js';

/**
 * The room log on NATS JetStream: publishes with Nats-Msg-Id = message id (JetStream answers a
 * duplicate inside its window with the original's sequence), takes live copies from the stream's
 * RePublish subject, and reads with direct gets. A link that stops answering is replaced
 * (StalledLinkWatch) rather than waited out.
 */
export class NatsRoomBroker implements RoomBroker {
  private readonly publisher: StreamPublisher;
  private readonly stream: RoomStream;
  private readonly reconnectListeners: (() => void)[] = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly log: Logger,
    timeoutMs = 5_000,
  ) {
    this.publisher = new StreamPublisher(nc, timeoutMs);
    new StalledLinkWatch(nc, this.publisher, log).start();
    this.stream = new RoomStream(nc, 1_000, timeoutMs);
    void this.watchStatus();
  }

  publish(message: StoredMessage, traceparent?: string, timeoutMs?: number): Promise<Published> {
    return this.publisher.publish(subjects.inbound(message.room), JSON.stringify(message), message.id, traceparent, timeoutMs);
  }

  async subscribeLive(room: string, onLive: (live: LiveMessage) => void): Promise<() => void> {
    const subscription = this.nc.subscribe(subjects.live(room), {
      callback: (error, msg) => {
        if (error) return;
        const live = parseLive(msg, room);
        if (live) onLive(live);
        else this.log.warn({ room, subject: msg.subject }, 'dropped an invalid live message');
      },
    });
    // The subscription must be in place at the server before the caller reads the head.
    await this.nc.flush();
    return () => subscription.unsubscribe();
  }

  head(room: string): Promise<number> {
    return this.stream.head(room);
  }
  heads(rooms: readonly string[]): Promise<Map<string, number>> {
    return this.stream.heads(rooms);
  }
  readAfter(room: string, after: number, limit: number): Promise<StreamRun> {
    return this.stream.readAfter(room, after, limit);
  }
  firstPos(): Promise<number> {
    return this.stream.firstSeq();
  }
  onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'reconnect') for (const listener of this.reconnectListeners) listener();
    }
  }
}

function parseLive(msg: Msg, room: string): LiveMessage | undefined {
  const pos = Number(msg.headers?.get(republishHeaders.sequence));
  const lastPos = Number(msg.headers?.get(republishHeaders.lastSequence) || 0);
  if (!Number.isSafeInteger(pos) || pos < 1 || !Number.isSafeInteger(lastPos) || lastPos < 0 || lastPos >= pos) return undefined;
  let parsed;
  try {
    parsed = storedMessage.safeParse(msg.json());
  } catch {
    return undefined;
  }
  if (!parsed.success || parsed.data.room !== room) return undefined;
  return { pos, lastPos, message: parsed.data, traceparent: msg.headers?.get('traceparent') || undefined };
}
