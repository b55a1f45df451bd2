import type { StoredMessage } from '@chorus/shared/bus/payloads';
import type { StreamRun } from '@chorus/shared/bus/room-stream';

/** One live copy of a stored message, as the stream republished it. */
export interface LiveMessage {
  /** The message's position (its stream sequence). */
  pos: number;
  /** The room's previous position in the stream when this one was stored (0: none there). */
  lastPos: number;
  message: StoredMessage;
  /** W3C traceparent of the publish, so deliveries join the message's trace. */
  traceparent?: string | undefined;
}

/** A publish outcome: where the stream put the message, or where it already was. */
export interface Published {
  pos: number;
  duplicate: boolean;
}

/**
 * What the gateway's ordering needs from the message log: publish, live copies per room, reads
 * of a room after a position, and the log's first position. NATS JetStream in production
 * (NatsRoomBroker); an in-memory engine for fast unit tests (MemoryRoomBroker).
 */
export interface RoomBroker {
  /** Stores the message; fails when the log has not confirmed it within `timeoutMs` (default: the broker's own). */
  publish(message: StoredMessage, traceparent?: string, timeoutMs?: number): Promise<Published>;
  /** Live copies of the room's messages, from now on, at most once each; returns the unsubscribe. */
  subscribeLive(room: string, onLive: (live: LiveMessage) => void): Promise<() => void>;
  /** Position of the room's newest message in the log, 0 when the log holds none of it. */
  head(room: string): Promise<number>;
  /** Heads of many rooms; rooms the log holds nothing of are absent. */
  heads(rooms: readonly string[]): Promise<Map<string, number>>;
  readAfter(room: string, after: number, limit: number): Promise<StreamRun>;
  /** The log's first position: older messages are only in the database. */
  firstPos(): Promise<number>;
  /** Called whenever the live connection came back after an outage (live copies may have been lost). */
  onReconnect(listener: () => void): void;
}
