import WebSocket from 'ws';
import { clientSubprotocols } from '@chorus/shared/protocol/auth-subprotocol';
import type { ServerFrame } from '@chorus/shared/protocol/server-frames';

/** A test user speaking the wire protocol to one gateway, recording every frame it receives. */
export class ChatClient {
  readonly frames: ServerFrame[] = [];
  private nextRid = 1;
  private readonly waiters = new Map<string | number, (frame: ServerFrame) => void>();
  private listeners: (() => void)[] = [];
  private readonly messageCounts = new Map<string, number>();

  private constructor(readonly user: string, readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as ServerFrame;
      this.frames.push(frame);
      if (frame.type === 'message') this.messageCounts.set(frame.room, (this.messageCounts.get(frame.room) ?? 0) + 1);
      const rid = 'rid' in frame ? frame.rid : undefined;
      if (rid !== undefined) {
        this.waiters.get(rid)?.(frame);
        this.waiters.delete(rid);
      }
      for (const listener of this.listeners) listener();
    });
  }

  /** Dev-mode login (POST /api/login), then a socket with that token. */
  static async login(gatewayUrl: string, user: string): Promise<ChatClient> {
    return ChatClient.connect(gatewayUrl, user, await devToken(gatewayUrl, user));
  }

  /** A socket presenting `token` in Sec-WebSocket-Protocol, resolved once the gateway said welcome. */
  static async connect(gatewayUrl: string, user: string, token: string): Promise<ChatClient> {
    const socket = new WebSocket(`${gatewayUrl.replace(/^http/, 'ws')}/ws`, clientSubprotocols(token));
    const client = new ChatClient(user, socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    await client.waitFor((f) => f.type === 'welcome');
    return client;
  }

  /** Sends a frame with a fresh rid and resolves with the reply (ack, error, joined, ...). */
  request(frame: Record<string, unknown>): Promise<ServerFrame> {
    const rid = this.nextRid++;
    const reply = new Promise<ServerFrame>((resolve) => this.waiters.set(rid, resolve));
    this.socket.send(JSON.stringify({ ...frame, rid }));
    return reply;
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.socket.send(data, { binary });
  }

  /** Resolves with the first received frame that matches (frames already received count too). */
  waitFor(match: (frame: ServerFrame) => boolean, timeoutMs = 20_000): Promise<ServerFrame> {
    const found = this.frames.find(match);
    if (found) return Promise.resolve(found);
    let seen = this.frames.length;
    return this.until(() => {
      // Only the frames that arrived since the last look: a wait stays linear in the traffic.
      for (; seen < this.frames.length; seen++) if (match(this.frames[seen]!)) return this.frames[seen];
      return undefined;
    }, timeoutMs);
  }

  /** Resolves when the room has at least `count` message frames. */
  async waitForMessages(room: string, count: number, timeoutMs = 60_000): Promise<void> {
    await this.until(() => ((this.messageCounts.get(room) ?? 0) >= count ? true : undefined), timeoutMs);
  }

  private until<T>(check: () => T | undefined, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const listener = () => {
        const result = check();
        if (result === undefined) return;
        this.listeners = this.listeners.filter((l) => l !== listener);
        clearTimeout(timer);
        resolve(result);
      };
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== listener);
        reject(new Error(`${this.user}: condition not met within ${timeoutMs} ms (got ${this.frames.length} frames)`));
      }, timeoutMs);
      this.listeners.push(listener);
      listener();
    });
  }

  messages(room: string) {
    return this.frames.filter((f): f is Extract<ServerFrame, { type: 'message' }> => f.type === 'message' && f.room === room);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.readyState === WebSocket.CLOSED) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}

/** A dev-mode token from the gateway's name-only login. */
export async function devToken(gatewayUrl: string, user: string): Promise<string> {
  const response = await fetch(`${gatewayUrl}/api/login`, { method: 'POST', body: JSON.stringify({ user }) });
  if (!response.ok) throw new Error(`login failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}
