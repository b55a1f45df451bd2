import type { Presence } from './presence.js';

/** Presence within one process: counts of each user's sockets per room. */
export class MemoryPresence implements Presence {
  private readonly rooms = new Map<string, Map<string, number>>();

  async connected(): Promise<void> {}
  async disconnected(): Promise<void> {}

  async entered(room: string, user: string): Promise<void> {
    let users = this.rooms.get(room);
    if (!users) this.rooms.set(room, (users = new Map()));
    users.set(user, (users.get(user) ?? 0) + 1);
  }

  async left(room: string, user: string): Promise<void> {
    const users = this.rooms.get(room);
    const count = (users?.get(user) ?? 0) - 1;
    if (!users) return;
    if (count > 0) users.set(user, count);
    else users.delete(user);
    if (users.size === 0) this.rooms.delete(room);
  }

  async online(room: string): Promise<string[]> {
    return [...(this.rooms.get(room)?.keys() ?? [])].sort();
  }

  async close(): Promise<void> {
    this.rooms.clear();
  }
}
