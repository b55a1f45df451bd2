import type WebSocket from 'ws';
import type { GatewayEndpoint } from '../client/gateway-url.js';
import { openSocket } from './open-socket.js';

export interface SteadyReport {
  sent: number;
  acked: number;
  delivered: number;
  /** Deliveries out of order, repeated, or whose `prev` is not the previous position. */
  orderViolations: number;
  /** Error frames the well-behaved users got. */
  errors: number;
  maxAckMs: number;
  p99AckMs: number;
  p50AckMs: number;
  /** Index of the slowest ack's message (0 = the first one sent). */
  slowestAt: number;
}

/**
 * A well-behaved pair beside the fuzzers: one user sends a message every `intervalMs` to a room,
 * another receives them; every message must be acked and arrive once, in order, chained by `prev`.
 */
export class SteadyChat {
  private sender!: WebSocket;
  private receiver!: WebSocket;
  private timer: NodeJS.Timeout | undefined;
  private readonly sentAt = new Map<number, number>();
  private readonly ackMs: number[] = [];
  private sent = 0;
  private delivered = 0;
  private lastPos = 0;
  private orderViolations = 0;
  private errors = 0;

  constructor(
    private readonly endpoint: GatewayEndpoint,
    private readonly tokens: { sender: string; receiver: string },
    private readonly room: string,
    private readonly intervalMs = 100,
  ) {}

  async start(): Promise<void> {
    this.sender = await openSocket(this.endpoint, this.tokens.sender);
    this.receiver = await openSocket(this.endpoint, this.tokens.receiver);
    await request(this.sender, { type: 'create', room: this.room, rid: 'create' });
    await request(this.receiver, { type: 'join', room: this.room, rid: 'join' });
    this.sender.on('message', (data) => this.onSenderFrame(String(data)));
    this.receiver.on('message', (data) => this.onReceiverFrame(String(data)));
    for (const ws of [this.sender, this.receiver]) ws.on('close', () => this.errors++);
    this.timer = setInterval(() => this.sendOne(), this.intervalMs);
  }

  /** Stops sending; `settled` says whether every message sent is acked and delivered. */
  stop(): void {
    clearInterval(this.timer);
  }

  settled(): boolean {
    return this.ackMs.length === this.sent && this.delivered === this.sent;
  }

  report(): SteadyReport {
    const sorted = [...this.ackMs].sort((a, b) => a - b);
    return {
      sent: this.sent,
      acked: this.ackMs.length,
      delivered: this.delivered,
      orderViolations: this.orderViolations,
      errors: this.errors,
      maxAckMs: sorted.at(-1) ?? 0,
      p99AckMs: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0,
      p50AckMs: sorted[Math.floor(sorted.length / 2)] ?? 0,
      slowestAt: this.ackMs.indexOf(sorted.at(-1) ?? 0),
    };
  }

  close(): void {
    this.stop();
    for (const ws of [this.sender, this.receiver]) {
      ws?.removeAllListeners('close');
      ws?.close();
    }
  }

  private sendOne(): void {
    const n = this.sent++;
    this.sentAt.set(n, Date.now());
    this.sender.send(JSON.stringify({ type: 'send', rid: n, room: this.room, clientMsgId: `steady-${n}`, text: `steady ${n}` }));
  }

  private onSenderFrame(text: string): void {
    const frame = JSON.parse(text) as { type: string; rid?: number };
    if (frame.type === 'error') this.errors++;
    if (frame.type !== 'ack' || typeof frame.rid !== 'number') return;
    const at = this.sentAt.get(frame.rid);
    if (at === undefined) return;
    this.sentAt.delete(frame.rid);
    this.ackMs.push(Date.now() - at);
  }

  private onReceiverFrame(text: string): void {
    const frame = JSON.parse(text) as { type: string; room?: string; pos?: number; prev?: number; text?: string };
    if (frame.type === 'error') this.errors++;
    if (frame.type !== 'message' || frame.room !== this.room) return;
    if (frame.prev !== this.lastPos || frame.text !== `steady ${this.delivered}`) this.orderViolations++;
    this.lastPos = frame.pos ?? this.lastPos;
    this.delivered++;
  }
}

/** Sends a frame and waits for the frame with its rid; an error reply throws. */
function request(ws: WebSocket, frame: { rid: string } & Record<string, unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: WebSocket.RawData) => {
      const reply = JSON.parse(String(data)) as { rid?: string; type: string; message?: string };
      if (reply.rid !== frame.rid) return;
      ws.off('message', onMessage);
      if (reply.type === 'error') reject(new Error(`${String(frame.type)}: ${reply.message}`));
      else resolve();
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify(frame));
  });
}
