import { io, type Socket } from 'socket.io-client';
import type { Hs256Tokens } from './hs256-token.js';
import { PeerError, type PeerConnectOptions, type PeerConnection, type PeerProtocol, type PeerSink } from './peer-protocol.js';

type Reply = { ok?: unknown; code?: unknown; message?: unknown } | null | undefined;

/**
 * One user on the Socket.IO peer, with socket.io-client over the WebSocket transport only (no
 * polling, no reconnection: a dropped socket is counted, not hidden). Speaks the peer chat
 * server's events: `join` and `send` with acks, `message` pushes.
 */
class SocketIoConnection implements PeerConnection {
  private ended = false;

  constructor(
    private readonly socket: Socket,
    private readonly user: number,
    private readonly sink: PeerSink,
  ) {
    socket.on('message', (m: { room?: unknown; id?: unknown; text?: unknown } | null) => {
      const now = performance.now();
      if (typeof m !== 'object' || m === null || typeof m.room !== 'string' || typeof m.id !== 'string' || typeof m.text !== 'string') {
        sink.onBadFrame(user, `message without room, id or text: ${JSON.stringify(m).slice(0, 120)}`);
        return;
      }
      sink.onMessage(user, m.room, m.id, undefined, m.text, now);
    });
    socket.on('disconnect', (reason) => {
      this.ended = true;
      sink.onClose(user, reason === 'io client disconnect' ? 1000 : 1006);
    });
  }

  get open(): boolean {
    return this.socket.connected;
  }

  get closed(): boolean {
    return this.ended || !this.socket.connected;
  }

  async join(room: string, timeoutMs: number): Promise<void> {
    let reply: Reply;
    try {
      reply = (await this.socket.timeout(timeoutMs).emitWithAck('join', room)) as Reply;
    } catch {
      throw new PeerError(`no reply to join in ${timeoutMs} ms`, 'timeout');
    }
    if (reply?.ok !== true) throw new PeerError(String(reply?.message ?? 'join refused'), String(reply?.code ?? 'refused'));
  }

  send(room: string, clientMsgId: string, text: string): boolean {
    if (!this.socket.connected) return false;
    this.socket.emit('send', { room, id: clientMsgId, text }, (reply: Reply) => {
      const now = performance.now();
      if (reply?.ok === true) this.sink.onAck(this.user, clientMsgId, now);
      else this.sink.onSendError(this.user, clientMsgId, `socketio_${String(reply?.code ?? 'bad_reply')}`, String(reply?.message ?? ''));
    });
    return true;
  }

  close(): void {
    this.socket.disconnect();
  }

  terminate(): void {
    this.socket.disconnect();
  }
}

export function socketIoProtocol(tokens: Hs256Tokens): PeerProtocol {
  return {
    async connect({ user, name, endpoint, sink, timeoutMs }: PeerConnectOptions): Promise<PeerConnection> {
      const token = await tokens.sign(name);
      const socket = io(endpoint, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true, timeout: timeoutMs });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', (err: Error) => reject(new PeerError(err.message, 'connect_error')));
      }).catch((error: unknown) => {
        socket.disconnect();
        throw error;
      });
      return new SocketIoConnection(socket, user, sink);
    },
  };
}
