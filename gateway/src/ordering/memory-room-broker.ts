import type { StoredMessage } from '@chorus/shared/bus/payloads';
import type { StreamRun } from '@chorus/shared/bus/room-stream';
import type { LiveMessage, Published, RoomBroker } from './room-broker.js';

/**
 * An in-memory room log with the same contract as JetStream's: one global sequence, per-room
 * live copies carrying the previous position of the room, reads after a position, duplicates by
 * message id; nothing ever leaves it. For unit tests of the ordering logic; `dropLive` and `failReads` inject faults.
 */
export class MemoryRoomBroker implements RoomBroker {
  private readonly log: { pos: number; message: StoredMessage }[] = [];
  private readonly byId = new Map<string, number>();
  private readonly live = new Map<string, Set<(live: LiveMessage) => void>>();
  private readonly reconnectListeners: (() => void)[] = [];
  /** Live copies for which this returns true are not delivered (a lost republish). */
  dropLive: (live: LiveMessage) => boolean = () => false;
  /** Reads fail while this is set. */
  failReads: Error | undefined;
  /** Positions reads do not see (a replica that lags, or a message deleted by hand). */
  readonly hidden = new Set<number>();
  reads = 0;

  async publish(message: StoredMessage): Promise<Published> {
    return this.append(message);
  }

  /** Synchronous publish for tests. */
  append(message: StoredMessage): Published {
    const known = this.byId.get(message.id);
    if (known !== undefined) return { pos: known, duplicate: true };
    const lastPos = this.lastOf(message.room);
    const pos = this.log.length + 1;
    this.log.push({ pos, message });
    this.byId.set(message.id, pos);
    const copy: LiveMessage = { pos, lastPos, message };
    if (!this.dropLive(copy)) for (const listener of this.live.get(message.room) ?? []) listener(copy);
    return { pos, duplicate: false };
  }

  async subscribeLive(room: string, onLive: (live: LiveMessage) => void): Promise<() => void> {
    let set = this.live.get(room);
    if (!set) this.live.set(room, (set = new Set()));
    set.add(onLive);
    return () => set.delete(onLive);
  }

  async head(room: string): Promise<number> {
    return this.lastOf(room);
  }

  async heads(rooms: readonly string[]): Promise<Map<string, number>> {
    const heads = new Map<string, number>();
    for (const room of rooms) {
      const head = this.lastOf(room);
      if (head > 0) heads.set(room, head);
    }
    return heads;
  }

  async readAfter(room: string, after: number, limit: number): Promise<StreamRun> {
    this.reads++;
    if (this.failReads) throw this.failReads;
    const result: StreamRun = { run: [], cursor: after, reachedEnd: true };
    for (const entry of this.log) {
      if (entry.pos <= after || entry.message.room !== room || this.hidden.has(entry.pos)) continue;
      if (result.run.length === limit) {
        result.reachedEnd = false;
        break;
      }
      result.run.push(entry);
      result.cursor = entry.pos;
    }
    return result;
  }

  async firstPos(): Promise<number> {
    return 1; // nothing ever leaves this log
  }

  onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  /** Simulates the live connection coming back. */
  reconnect(): void {
    for (const listener of this.reconnectListeners) listener();
  }

  private lastOf(room: string): number {
    for (let i = this.log.length - 1; i >= 0; i--) if (this.log[i]!.message.room === room) return this.log[i]!.pos;
    return 0;
  }
}
