import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { SpanKind } from '@opentelemetry/api';
import { subjects } from '@chorus/shared/bus/names';
import { fanoutBatch } from '@chorus/shared/bus/payloads';
import type { Logger } from '@chorus/shared/logging/logger';
import { contextFromTraceparent, tracer } from '@chorus/shared/telemetry/tracing';
import type { MessageServiceClient } from '../backend/message-service-client.js';
import type { GatewayMetrics } from '../http/gateway-metrics.js';
import { RoomFeed, type FeedListener } from './room-feed.js';

/** A local receiver in a room that also takes presence pushes (already serialized frames). */
export interface RoomListener extends FeedListener {
  sendRaw(frame: string): void;
}

/** Most names a pushed presence frame lists; a client asks with `presence` for a full answer. */
const maxPushedNames = 100;

interface RoomEntry {
  feed: RoomFeed;
  subscriptions: Subscription[];
}

/**
 * This gateway's rooms: it subscribes to a room's fan-out subject only while a local socket is in
 * the room, and feeds what arrives through the room's RoomFeed (ordering, dedupe, gap fill).
 */
export class RoomHub {
  private readonly rooms = new Map<string, Promise<RoomEntry>>();
  private readonly listeners = new Map<string, Set<RoomListener>>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly backend: MessageServiceClient,
    private readonly log: Logger,
    private readonly gatewayId: string,
    private readonly onlineIn: (room: string) => Promise<string[]>,
    private readonly metrics: GatewayMetrics,
  ) {}

  /** Adds a listener to a room; resolves with the feed head (last seq delivered here). */
  async attach(room: string, listener: RoomListener): Promise<number> {
    let set = this.listeners.get(room);
    if (!set) this.listeners.set(room, (set = new Set()));
    set.add(listener);
    let entry = this.rooms.get(room);
    if (!entry) {
      entry = this.open(room);
      this.rooms.set(room, entry);
      this.metrics.rooms.set(this.rooms.size);
      entry.catch(() => this.rooms.delete(room));
    }
    try {
      const { feed } = await entry;
      if (set.has(listener)) feed.add(listener);
      return feed.head;
    } catch (error) {
      // The room could not be opened (backend down): leave nothing behind for this listener.
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(room) === set) this.listeners.delete(room);
      throw error;
    }
  }

  async detach(room: string, listener: RoomListener): Promise<void> {
    const set = this.listeners.get(room);
    if (!set?.delete(listener)) return;
    const entry = this.rooms.get(room);
    if (!entry) return;
    const resolved = await entry.catch(() => undefined);
    resolved?.feed.remove(listener);
    if (set.size > 0) return;
    this.listeners.delete(room);
    this.rooms.delete(room);
    this.metrics.rooms.set(this.rooms.size);
    if (resolved) {
      resolved.feed.close();
      for (const subscription of resolved.subscriptions) subscription.unsubscribe();
    }
  }

  get roomCount(): number {
    return this.rooms.size;
  }

  async close(): Promise<void> {
    for (const [room, entry] of this.rooms) {
      const resolved = await entry.catch(() => undefined);
      resolved?.feed.close();
      resolved?.subscriptions.forEach((s) => s.unsubscribe());
      this.rooms.delete(room);
    }
    this.listeners.clear();
  }

  private async open(room: string): Promise<RoomEntry> {
    // Subscribe first, then read the stored head: a message stored after the head was read is
    // fanned out after this subscription exists, so nothing falls between the two.
    const fanout = this.nc.subscribe(subjects.fanout(room));
    const presence = this.nc.subscribe(subjects.presence(room));
    await this.nc.flush();
    const { head } = await this.backend.rooms({ op: 'head', room });
    const feed = new RoomFeed(room, head, {
      fetchAfter: async (after) => (await this.backend.history({ room, after, limit: 500 })).messages,
      onGapSkipped: (from, to) => this.log.warn({ room, from, to }, 'skipped a sequence gap that history could not fill'),
      onDelivered: (message, listeners) => {
        this.metrics.delivered.inc(listeners);
        if (!message.traceparent) return;
        tracer()
          .startSpan(
            'gateway.deliver',
            { kind: SpanKind.CONSUMER, attributes: { 'chorus.gateway': this.gatewayId, 'chorus.room': room, 'chorus.seq': message.seq, 'chorus.receivers': listeners } },
            contextFromTraceparent(message.traceparent),
          )
          .end();
      },
    });
    void this.pump(room, fanout, feed);
    void this.pumpPresence(room, presence);
    return { feed, subscriptions: [fanout, presence] };
  }

  private async pump(room: string, subscription: Subscription, feed: RoomFeed): Promise<void> {
    for await (const message of subscription) {
      let parsed;
      try {
        parsed = fanoutBatch.safeParse(message.json());
      } catch {
        parsed = undefined;
      }
      if (!parsed?.success || parsed.data.room !== room) {
        this.log.warn({ room, subject: message.subject }, 'dropped an invalid fan-out payload');
        continue;
      }
      feed.push(parsed.data.messages);
    }
  }

  private async pumpPresence(room: string, subscription: Subscription): Promise<void> {
    // Coalesce a burst of arrivals (a whole room connecting at once) into one push per second.
    let timer: NodeJS.Timeout | undefined;
    for await (const _ of subscription) {
      timer ??= setTimeout(() => {
        timer = undefined;
        void this.pushPresence(room);
      }, 1_000);
    }
    clearTimeout(timer);
  }

  private async pushPresence(room: string): Promise<void> {
    const listeners = this.listeners.get(room);
    if (!listeners?.size) return;
    try {
      const online = (await this.onlineIn(room)).slice(0, maxPushedNames);
      const frame = JSON.stringify({ type: 'presence', room, online });
      for (const listener of listeners) listener.sendRaw(frame);
    } catch (error) {
      this.log.warn({ room, err: error }, 'presence push failed');
    }
  }
}
