import type { Writable } from 'node:stream';

/** Sockets corked during this event-loop turn, all uncorked once the turn's I/O callbacks ran. */
const corked = new Set<Writable>();
let flushScheduled = false;

/**
 * Holds a socket's writes until the end of this event-loop turn, so that every frame it is given
 * in the turn (a burst of room messages read from NATS in one chunk, an ack beside them) leaves
 * in one write call instead of one syscall per frame. Under load a turn carries more frames, so
 * the saving grows when it matters; at low load a frame waits only for the turn to finish.
 */
export function corkUntilTurnEnds(socket: Writable): void {
  if (corked.has(socket)) return;
  socket.cork();
  corked.add(socket);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(uncorkAll);
  }
}

function uncorkAll(): void {
  flushScheduled = false;
  const sockets = [...corked];
  corked.clear();
  for (const socket of sockets) socket.uncork();
}
