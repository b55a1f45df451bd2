import WebSocket, { type RawData } from 'ws';
import { centrifugoNamespace } from './centrifugo-config.js';
import type { Hs256Tokens } from './hs256-token.js';
import { PeerError, type PeerConnectOptions, type PeerConnection, type PeerProtocol, type PeerSink } from './peer-protocol.js';

/** One reply or push of Centrifugo's JSON client protocol (v2), the fields this driver reads. */
interface Reply {
  id?: number;
  error?: { code?: number; message?: string };
  connect?: { pong?: boolean };
  subscribe?: { recoverable?: boolean };
  push?: { channel?: string; pub?: { data?: { id?: unknown; text?: unknown }; offset?: number } };
}

interface Waiter {
  resolve(reply: Reply): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

const prefix = `${centrifugoNamespace}:`;

/**
 * Centrifugo's JSON protocol spoken directly over `ws` (no SDK: one JSON.parse per frame and no
 * per-subscription objects, so the load driver costs about what the Chorus one does): connect
 * with a JWT, subscribe, publish, answer server pings. A publication's data is
 * `{"id": clientMsgId, "text": ...}`; its channel offset (history is on) is the per-room position.
 */
class CentrifugoConnection implements PeerConnection {
  private nextId = 1;
  private pong = false;
  /** Command id -> clientMsgId, for publishes awaiting their reply. */
  private readonly publishes = new Map<number, string>();
  private readonly waiters = new Map<number, Waiter>();

  constructor(
    private readonly ws: WebSocket,
    private readonly user: number,
    private readonly sink: PeerSink,
  ) {
    ws.on('message', (data: RawData, isBinary: boolean) => this.onData(data, isBinary));
    ws.on('close', (code: number) => {
      for (const waiter of this.waiters.values()) {
        clearTimeout(waiter.timer);
        waiter.reject(new PeerError(`closed (${code})`, `closed_${code}`));
      }
      this.waiters.clear();
      this.publishes.clear();
      sink.onClose(user, code);
    });
    ws.on('error', () => {}); // 'close' follows and does the accounting
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  get closed(): boolean {
    return this.ws.readyState === WebSocket.CLOSED;
  }

  /** Sends a command and resolves with its reply (an error reply rejects). */
  request(command: Record<string, unknown>, timeoutMs: number): Promise<Reply> {
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(new PeerError(`no reply to ${Object.keys(command)[0]} in ${timeoutMs} ms`, 'timeout'));
      }, timeoutMs);
      this.waiters.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ id, ...command }));
    });
  }

  async handshake(token: string, timeoutMs: number): Promise<void> {
    const reply = await this.request({ connect: { token, name: 'chorus-bench' } }, timeoutMs);
    if (!reply.connect) throw new PeerError('connect reply without result', 'bad_connect_reply');
    this.pong = reply.connect.pong === true;
  }

  async join(room: string, timeoutMs: number): Promise<void> {
    const reply = await this.request({ subscribe: { channel: prefix + room } }, timeoutMs);
    // The row is defined with history and recovery on; a node configured otherwise must not pass.
    if (reply.subscribe?.recoverable !== true) throw new PeerError(`${prefix}${room} is not recoverable (history/recovery off?)`, 'not_recoverable');
  }

  send(room: string, clientMsgId: string, text: string): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    const id = this.nextId++;
    this.publishes.set(id, clientMsgId);
    // Built by hand: every part is from a known-safe alphabet, and this is the hottest path.
    this.ws.send(`{"id":${id},"publish":{"channel":"${prefix}${room}","data":{"id":"${clientMsgId}","text":"${text}"}}}`);
    return true;
  }

  close(): void {
    this.ws.close(1000, 'load test done');
  }

  terminate(): void {
    this.ws.terminate();
  }

  private onData(data: RawData, isBinary: boolean): void {
    const now = performance.now();
    if (isBinary) {
      this.sink.onBadFrame(this.user, 'binary frame on a JSON connection');
      return;
    }
    const text = data.toString();
    // Several replies may share one frame, one JSON object per line.
    if (text.includes('\n')) {
      for (const line of text.split('\n')) if (line.length > 0) this.onReply(line, now);
    } else this.onReply(text, now);
  }

  private onReply(line: string, now: number): void {
    if (line === '{}') {
      if (this.pong) this.ws.send('{}');
      return;
    }
    let reply: Reply;
    try {
      reply = JSON.parse(line) as Reply;
    } catch {
      this.sink.onBadFrame(this.user, `not JSON: ${line.slice(0, 80)}`);
      return;
    }
    if (typeof reply !== 'object' || reply === null) {
      this.sink.onBadFrame(this.user, `not an object: ${line.slice(0, 80)}`);
      return;
    }
    if (typeof reply.id === 'number' && reply.id > 0) {
      const clientMsgId = this.publishes.get(reply.id);
      if (clientMsgId !== undefined) {
        this.publishes.delete(reply.id);
        if (reply.error) this.sink.onSendError(this.user, clientMsgId, `centrifugo_${reply.error.code}`, reply.error.message ?? '');
        else this.sink.onAck(this.user, clientMsgId, now);
        return;
      }
      const waiter = this.waiters.get(reply.id);
      if (waiter) {
        this.waiters.delete(reply.id);
        clearTimeout(waiter.timer);
        if (reply.error) waiter.reject(new PeerError(reply.error.message ?? 'error', `centrifugo_${reply.error.code}`));
        else waiter.resolve(reply);
      }
      return;
    }
    const push = reply.push;
    if (!push) return;
    const pub = push.pub;
    if (!pub) return; // join/leave/disconnect pushes: not messages
    const channel = push.channel;
    const data = pub.data;
    if (typeof channel !== 'string' || !channel.startsWith(prefix) || typeof data?.id !== 'string' || typeof data.text !== 'string') {
      this.sink.onBadFrame(this.user, `publication without channel, id or text: ${line.slice(0, 120)}`);
      return;
    }
    const offset = typeof pub.offset === 'number' ? pub.offset : undefined;
    this.sink.onMessage(this.user, channel.slice(prefix.length), data.id, offset, data.text, now);
  }
}

/** Connects users to Centrifugo nodes (`ws://host:port/connection/websocket`) with HS256 tokens. */
export function centrifugoProtocol(tokens: Hs256Tokens): PeerProtocol {
  return {
    async connect({ user, name, endpoint, sink, timeoutMs }: PeerConnectOptions): Promise<PeerConnection> {
      const token = await tokens.sign(name);
      const ws = new WebSocket(endpoint, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('unexpected-response', (_req, res) => reject(new PeerError(`upgrade refused: HTTP ${res.statusCode}`, `upgrade_http_${res.statusCode}`)));
        ws.once('error', (err: Error & { code?: string }) => reject(new PeerError(err.message, `connect_${(err.code ?? 'error').toLowerCase()}`)));
      }).catch((error: unknown) => {
        ws.terminate();
        throw error;
      });
      const conn = new CentrifugoConnection(ws, user, sink);
      try {
        await conn.handshake(token, timeoutMs);
      } catch (error) {
        conn.terminate();
        throw error;
      }
      return conn;
    },
  };
}
