import { createServer, type Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { jwtVerify } from 'jose';
import { Server } from 'socket.io';

/** Longest text the chat server relays; a longer one is refused (no unbounded input). */
export const maxTextLength = 4000;
const maxRoomLength = 200;

export interface SocketIoChatServer {
  url: string;
  close(): Promise<void>;
}

type Reply = (reply: { ok: true; id?: string } | { ok: false; code: string; message: string }) => void;

/**
 * The Socket.IO peer: a small chat server as Socket.IO 4 apps are written. Clients connect over
 * WebSocket with an HS256 JWT (`auth.token`), `join` a room, and `send {room, id, text}`; the
 * server checks membership and broadcasts `message {room, id, sender, text, ts}` to the room with
 * `io.to(room)` (the sender included, as in Chorus). Several processes share rooms through the
 * Redis adapter (PUB/SUB). Nothing is stored: there is no history and no per-room order across
 * processes.
 */
export async function startSocketIoChatServer(options: { port: number; redisUrl: string; secret: string }): Promise<SocketIoChatServer> {
  const key = new TextEncoder().encode(options.secret);
  const pub = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  const http: HttpServer = createServer();
  const io = new Server(http, { transports: ['websocket'], serveClient: false, adapter: createAdapter(pub, sub) });

  io.use((socket, next) => {
    const token: unknown = socket.handshake.auth?.token;
    if (typeof token !== 'string') return next(new Error('unauthorized: auth.token is missing'));
    jwtVerify(token, key, { algorithms: ['HS256'] }).then(
      ({ payload }) => {
        if (typeof payload.sub !== 'string' || payload.sub.length === 0) return next(new Error('unauthorized: token has no sub'));
        socket.data.user = payload.sub;
        next();
      },
      () => next(new Error('unauthorized: bad token')),
    );
  });

  io.on('connection', (socket) => {
    socket.on('join', (room: unknown, ack: unknown) => {
      if (typeof ack !== 'function') return;
      const reply = ack as Reply;
      if (!validRoom(room)) return reply({ ok: false, code: 'bad_request', message: `room must be a string of 1-${maxRoomLength} characters` });
      void Promise.resolve(socket.join(room)).then(() => reply({ ok: true }));
    });
    socket.on('send', (message: unknown, ack: unknown) => {
      if (typeof ack !== 'function') return;
      const reply = ack as Reply;
      const m = message as { room?: unknown; id?: unknown; text?: unknown } | null;
      if (typeof m !== 'object' || m === null || !validRoom(m.room) || typeof m.id !== 'string' || m.id.length > 100 || typeof m.text !== 'string') {
        return reply({ ok: false, code: 'bad_request', message: 'send needs {room, id, text} strings' });
      }
      if (m.text.length > maxTextLength) return reply({ ok: false, code: 'too_long', message: `text is longer than ${maxTextLength}` });
      if (!socket.rooms.has(m.room)) return reply({ ok: false, code: 'not_member', message: `not in room ${m.room}` });
      io.to(m.room).emit('message', { room: m.room, id: m.id, sender: socket.data.user as string, text: m.text, ts: Date.now() });
      reply({ ok: true, id: m.id });
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, '127.0.0.1', () => resolve());
  });
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => io.close(() => resolve()));
      pub.disconnect();
      sub.disconnect();
    },
  };
}

function validRoom(room: unknown): room is string {
  return typeof room === 'string' && room.length > 0 && room.length <= maxRoomLength;
}
