import type { Logger } from '@chorus/shared/logging/logger';
import type { PreparedFrame } from '../connection/prepared-frame.js';
import { RoomFeed, type FeedListener, type RoomFeedOptions } from './room-feed.js';

/** A local socket in a room: takes the room's messages and its other frames (presence pushes). */
export interface RoomListener extends FeedListener {
  sendRaw(frame: PreparedFrame): void;
}
import type { RoomBroker } from './room-broker.js';
import type { RoomReader } from './room-reader.js';

export interface RoomHubOptions {
  broker: RoomBroker;
  reader: RoomReader;
  log: Logger;
  /** Head from the database for a room the stream holds nothing of (all older than its retention). */
  storedHead: (room: string) => Promise<number>;
  onDelivered?: RoomFeedOptions['onDelivered'];
  /** A room opened on this gateway (first local listener) or closed (last one left). */
  onRoomOpened?: (room: string) => void;
  onRoomClosed?: (room: string) => void;
  onRoomsChanged?: (count: number) => void;
  /** How often open rooms are compared with the stream's heads (lost tail copies). */
  auditMs?: number;
  /** Options passed to every feed (tests shrink the bounds). */
  feed?: Pick<RoomFeedOptions, 'pageSize' | 'maxPending' | 'recentLimit' | 'retryMs' | 'maxRetryMs'>;
}

interface OpenRoom {
  feed: RoomFeed;
  unsubscribe: () => void;
}

/**
 * This gateway's open rooms: a room is open (one live subscription, one feed) while at least one
 * local socket is in it. It also audits open rooms against the stream every few seconds and
 * resyncs them after a reconnect, so a lost live copy of a room's last message is found without
 * waiting for the next one.
 */
export class RoomHub {
  private readonly rooms = new Map<string, Promise<OpenRoom>>();
  private readonly listeners = new Map<string, Set<RoomListener>>();
  private readonly auditTimer: NodeJS.Timeout;
  private auditing = false;

  constructor(private readonly options: RoomHubOptions) {
    options.broker.onReconnect(() => void this.forEachFeed((feed) => feed.resync()));
    this.auditTimer = setInterval(() => void this.audit(), options.auditMs ?? 2_000);
    this.auditTimer.unref();
  }

  /** Adds a listener to a room, opening it if needed; resolves with the room's feed. */
  async attach(room: string, listener: RoomListener): Promise<RoomFeed> {
    let set = this.listeners.get(room);
    if (!set) this.listeners.set(room, (set = new Set()));
    set.add(listener);
    let entry = this.rooms.get(room);
    if (!entry) {
      entry = this.open(room);
      this.rooms.set(room, entry);
      this.options.onRoomsChanged?.(this.rooms.size);
      entry.catch(() => {
        if (this.rooms.get(room) === entry) this.rooms.delete(room);
        this.options.onRoomsChanged?.(this.rooms.size);
      });
    }
    try {
      const { feed } = await entry;
      if (set.has(listener)) feed.add(listener);
      return feed;
    } catch (error) {
      // The room could not be opened (NATS down): leave nothing behind for this listener.
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
    const open = await entry.catch(() => undefined);
    open?.feed.remove(listener);
    if (set.size > 0 || this.listeners.get(room) !== set) return;
    this.listeners.delete(room);
    this.rooms.delete(room);
    this.options.onRoomsChanged?.(this.rooms.size);
    if (open) {
      open.feed.close();
      open.unsubscribe();
      this.options.onRoomClosed?.(room);
    }
  }

  /** Listeners of a room on this gateway (presence pushes). */
  listenersOf(room: string): ReadonlySet<RoomListener> | undefined {
    return this.listeners.get(room);
  }

  async close(): Promise<void> {
    clearInterval(this.auditTimer);
    for (const [room, entry] of this.rooms) {
      const open = await entry.catch(() => undefined);
      open?.feed.close();
      open?.unsubscribe();
      this.rooms.delete(room);
    }
    this.listeners.clear();
  }

  private async open(room: string): Promise<OpenRoom> {
    const { broker, reader, log } = this.options;
    const feed = new RoomFeed(room, {
      ...this.options.feed,
      read: (after, limit) => reader.read(room, after, limit),
      onDelivered: this.options.onDelivered,
      onGapSkipped: (cursor, missing) => log.error({ room, cursor, missing }, 'a position the stream announced is not in it; delivery goes on past it'),
      onReadFailed: (error, attempt) => {
        if (attempt === 1 || attempt % 20 === 0) log.warn({ room, err: error, attempt }, 'reading a gap from the stream failed; retrying');
      },
    });
    // Subscribe first, then read the head: a message stored after the head was read has its live
    // copy delivered to this subscription, and the feed holds copies until it knows the head.
    const unsubscribe = await broker.subscribeLive(room, (live) => feed.onLive(live));
    try {
      let head = await broker.head(room);
      // Nothing of the room in the stream: a new room, unless the stream has dropped old messages
      // (its first position is past 1), in which case MongoDB knows the room's newest.
      if (head === 0 && (await broker.firstPos()) > 1) {
        head = await this.options.storedHead(room).catch((error: unknown) => {
          log.warn({ room, err: error }, 'stored head unavailable; the room starts from the stream');
          return 0;
        });
      }
      feed.start(head);
      this.options.onRoomOpened?.(room);
      return { feed, unsubscribe };
    } catch (error) {
      unsubscribe();
      feed.close();
      throw error;
    }
  }

  private async forEachFeed(fn: (feed: RoomFeed) => void): Promise<void> {
    for (const entry of this.rooms.values()) {
      const open = await entry.catch(() => undefined);
      if (open) fn(open.feed);
    }
  }

  private async audit(): Promise<void> {
    if (this.auditing || this.rooms.size === 0) return;
    this.auditing = true;
    try {
      const heads = await this.options.broker.heads([...this.rooms.keys()]);
      await this.forEachFeed((feed) => feed.audit(heads.get(feed.room) ?? 0));
    } catch (error) {
      this.options.log.debug({ err: error }, 'room audit failed');
    } finally {
      this.auditing = false;
    }
  }
}
