/**
 * Who is online where, as a connection sees it. The Redis engine (PresenceTracker) shares it
 * across gateways; the in-memory engine (MemoryPresence) serves one process (unit tests).
 */
export interface Presence {
  connected(user: string): Promise<void>;
  disconnected(user: string): Promise<void>;
  entered(room: string, user: string): Promise<void>;
  left(room: string, user: string): Promise<void>;
  /** Users online in the room, sorted. */
  online(room: string): Promise<string[]>;
  close(): Promise<void>;
}
