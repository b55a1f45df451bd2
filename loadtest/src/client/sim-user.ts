import WebSocket, { type RawData } from 'ws';
import type { ServerFrame } from '@chorus/shared/protocol/server-frames';
import { clientSubprotocols } from '@chorus/shared/protocol/auth-subprotocol';
import { DrainLeave } from '@chorus/shared/protocol/drain-leave';

/** Where a simulated user's frames go: one object for the whole run, shared by every user. */
export interface FrameSink {
  onFrame(user: SimUser, frame: ServerFrame, receivedAtMs: number): void;
  onClose(user: SimUser, code: number, reason: string): void;
  /** The user's gateway is draining (its `reconnect` frame arrived). */
  onDrainNotice(user: SimUser): void;
}

interface Waiter {
  resolve(frame: ServerFrame): void;
  timer: NodeJS.Timeout;
}

/** Thrown when a connection cannot be set up; `code` goes into the report's failure counts. */
export class ConnectError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

// One listener function for all sockets (not a closure per connection): the socket finds its user here.
const owners = new WeakMap<WebSocket, SimUser>();

function onSocketMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  const user = owners.get(this);
  if (!user || isBinary) return;
  const now = performance.now();
  let frame: ServerFrame;
  try {
    frame = JSON.parse(data.toString()) as ServerFrame;
  } catch {
    return;
  }
  user.handleFrame(frame, now);
}

function onSocketClose(this: WebSocket, code: number, reason: Buffer): void {
  owners.get(this)?.handleClose(code, reason.toString());
}

function onSocketError(this: WebSocket): void {
  // 'close' follows every 'error' in ws; the close handler does the accounting.
}

/**
 * One simulated user: a token, one WebSocket, and the rooms it is in. Steady-state traffic (acks,
 * messages) goes straight to the shared sink; only set-up requests (create/join) wait for replies.
 * A draining gateway's `reconnect` frame is followed as the chaos client does: after its delay the
 * user sends nothing new there, closes the socket once its sends are answered (at most 1 s), and the
 * run connects it elsewhere and resumes its rooms from `roomLastPos`.
 */
export class SimUser {
  ws: WebSocket | undefined;
  /** Rooms (run room indexes) and this user's receiver slot in each, set up by the run. */
  readonly roomIndexes: number[] = [];
  readonly roomSlots: number[] = [];
  /** Per room (same order as roomIndexes): the newest position this user holds, where a resume starts. */
  readonly roomLastPos: number[] = [];
  sendCounter = 0;
  /** Sends on the current socket not answered yet. */
  unanswered = 0;
  closedByUs = false;
  /** The last close was this user leaving a draining gateway. */
  leftDrainingGateway = false;
  /** Reconnecting and resuming its rooms: no sends meanwhile. */
  resuming = false;
  /** The token of the last connect, for reconnects. */
  token = '';
  /** The gateway that served this socket, as its `welcome` frame named it. */
  servedBy: string | undefined;
  private waiters: Map<string, Waiter> | undefined;
  private nextRid = 0;
  private welcome: ((ok: boolean) => void) | undefined;
  private readonly drain = new DrainLeave<WebSocket>({
    current: () => this.ws,
    inFlight: () => this.unanswered > 0,
    close: (ws) => ws.close(1000, 'moving to another gateway'),
  });

  constructor(
    readonly index: number,
    readonly name: string,
    /** Index of the gateway it uses now (a reconnect moves it to the next). */
    public gateway: number,
    private readonly sink: FrameSink,
  ) {}

  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Open, not leaving a draining gateway, not resuming: sends may go out. */
  get ready(): boolean {
    return this.open && !this.drain.leaving && !this.resuming;
  }

  /** Opens the socket and resolves on the server's `welcome` frame. */
  connect(wsUrl: string, token: string, timeoutMs: number): Promise<void> {
    this.token = token;
    this.unanswered = 0;
    return new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(wsUrl, clientSubprotocols(token), {
        perMessageDeflate: false,
        handshakeTimeout: timeoutMs,
      });
      this.ws = ws;
      owners.set(ws, this);
      const timer = setTimeout(() => finish(new ConnectError('no welcome frame in time', 'connect_timeout')), timeoutMs);
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        ws.off('unexpected-response', onUnexpected);
        ws.off('error', onError);
        this.welcome = undefined;
        if (error) {
          ws.terminate();
          reject(error);
        } else resolve();
      };
      const onUnexpected = (_req: unknown, res: { statusCode?: number }): void =>
        finish(new ConnectError(`upgrade refused: HTTP ${res.statusCode}`, `upgrade_http_${res.statusCode}`));
      const onError = (err: Error & { code?: string }): void =>
        finish(new ConnectError(err.message, `connect_${(err.code ?? 'error').toLowerCase()}`));
      ws.once('unexpected-response', onUnexpected);
      ws.once('error', onError);
      ws.on('message', onSocketMessage);
      ws.on('close', onSocketClose);
      ws.on('error', onSocketError);
      this.welcome = (ok) => finish(ok ? undefined : new ConnectError('closed before welcome', 'closed_before_welcome'));
    });
  }

  /** Sends a set-up request and resolves with the reply carrying the same rid (a reply or an error). */
  request(frame: Record<string, unknown>, timeoutMs: number): Promise<ServerFrame> {
    const rid = `r${this.nextRid++}`;
    this.waiters ??= new Map();
    const waiters = this.waiters;
    return new Promise<ServerFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(rid);
        reject(new Error(`${String(frame.type)} got no reply in ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.set(rid, { resolve, timer });
      this.sendText(JSON.stringify({ ...frame, rid }));
    });
  }

  /** Fire-and-forget frame (sends during the load phase). Returns false when the socket is not open. */
  sendText(text: string): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(text);
    return true;
  }

  /** A send on this socket got its ack or error. */
  answered(): void {
    if (this.unanswered > 0) this.unanswered--;
    this.drain.answered();
  }

  close(): void {
    this.closedByUs = true;
    this.drain.reset();
    this.ws?.close(1000, 'load test done');
  }

  /** Frees set-up state so 10,000 idle users keep only what the load phase needs. */
  endSetup(): void {
    this.waiters = undefined;
  }

  /** @internal called by the shared socket listener. */
  handleFrame(frame: ServerFrame, receivedAtMs: number): void {
    if (frame.type === 'welcome') {
      this.servedBy = frame.gateway;
      this.welcome?.(true);
      return;
    }
    if (frame.type === 'reconnect') {
      if (this.ws) this.drain.schedule(this.ws, frame.afterMs);
      this.sink.onDrainNotice(this);
      return;
    }
    const rid = 'rid' in frame ? frame.rid : undefined;
    if (typeof rid === 'string' && rid.startsWith('r') && this.waiters) {
      const waiter = this.waiters.get(rid);
      if (waiter) {
        this.waiters.delete(rid);
        clearTimeout(waiter.timer);
        waiter.resolve(frame);
        return;
      }
    }
    this.sink.onFrame(this, frame, receivedAtMs);
  }

  /** @internal */
  handleClose(code: number, reason: string): void {
    this.welcome?.(false);
    this.leftDrainingGateway = this.drain.leaving;
    this.drain.reset();
    this.sink.onClose(this, code, reason);
  }
}
