import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { subjects } from '@chorus/shared/bus/names';
import type { Logger } from '@chorus/shared/logging/logger';
import { PreparedFrame } from '../connection/prepared-frame.js';

/** Most names a pushed presence frame lists; a client asks with `presence` for a full answer. */
const maxPushedNames = 100;

/** Where pushed presence frames go: the local sockets of a room. */
export interface PresenceAudience {
  sockets(room: string): Iterable<{ sendRaw(frame: PreparedFrame): void }> | undefined;
}

/**
 * Pushes a room's online list to its local sockets when someone comes or goes. It listens on
 * chorus.presence.<room> only while the room is open on this gateway, and coalesces a burst (a
 * whole room connecting at once) into one push per second.
 */
export class PresencePusher {
  private readonly rooms = new Map<string, { subscription: Subscription; timer?: NodeJS.Timeout }>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly onlineIn: (room: string) => Promise<string[]>,
    private readonly audience: PresenceAudience,
    private readonly log: Logger,
  ) {}

  open(room: string): void {
    if (this.rooms.has(room)) return;
    const entry: { subscription: Subscription; timer?: NodeJS.Timeout } = {
      subscription: this.nc.subscribe(subjects.presence(room), {
        callback: () => {
          entry.timer ??= setTimeout(() => {
            entry.timer = undefined;
            void this.push(room);
          }, 1_000);
        },
      }),
    };
    this.rooms.set(room, entry);
  }

  close(room: string): void {
    const entry = this.rooms.get(room);
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.subscription.unsubscribe();
    this.rooms.delete(room);
  }

  closeAll(): void {
    for (const room of [...this.rooms.keys()]) this.close(room);
  }

  private async push(room: string): Promise<void> {
    const sockets = this.audience.sockets(room);
    if (!sockets) return;
    try {
      const online = (await this.onlineIn(room)).slice(0, maxPushedNames);
      const frame = new PreparedFrame(JSON.stringify({ type: 'presence', room, online }));
      for (const socket of sockets) socket.sendRaw(frame);
    } catch (error) {
      this.log.warn({ room, err: error }, 'presence push failed');
    }
  }
}
