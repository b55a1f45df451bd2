import type WebSocket from 'ws';
import { errorCodes } from '@chorus/shared/protocol/error-codes';
import type { GatewayEndpoint } from '../client/gateway-url.js';
import type { Random } from '../plan/seeded-random.js';
import { frameGenerator, type Expectation, type FuzzFrame } from './frame-generator.js';
import { openSocket, RefusedSocket } from './open-socket.js';

/** Counts of one fuzz socket (summed over all of them for the verdict). */
export interface FuzzCounts {
  sent: number;
  answered: number;
  errorAnswers: number;
  /** Frames with a readable rid that were certainly invalid but were not answered with an error. */
  missedErrors: number;
  /** Certainly invalid frames with no readable rid, and error answers without a rid. */
  unriddedErrorsExpected: number;
  unriddedErrorAnswers: number;
  /** Answers that match no frame sent (a repeat, a stray rid). */
  strayAnswers: number;
  /** Error codes that are not in the protocol's list. */
  unknownCodes: number;
  closesExpected: number;
  closesSeen: number;
  /** Closes with a code other than 1006/1007/1009 after a frame that fails the connection. */
  wrongCloseCodes: number;
  /** Closes nobody asked for (slow consumer, a gateway crash...). */
  unexpectedCloses: number;
  /** Frames still unanswered when a socket closed unexpectedly or the run ended. */
  unanswered: number;
  /** Reconnects refused with 4429 while the previous socket's slot was being released. */
  reconnectRefusals: number;
}

export const emptyCounts = (): FuzzCounts => ({
  sent: 0,
  answered: 0,
  errorAnswers: 0,
  missedErrors: 0,
  unriddedErrorsExpected: 0,
  unriddedErrorAnswers: 0,
  strayAnswers: 0,
  unknownCodes: 0,
  closesExpected: 0,
  closesSeen: 0,
  wrongCloseCodes: 0,
  unexpectedCloses: 0,
  unanswered: 0,
  reconnectRefusals: 0,
});

const pushed = new Set(['message', 'presence', 'welcome']);
const knownCodes = new Set<string>(errorCodes);
const failingCloseCodes = new Set([1006, 1007, 1009]);

export interface FuzzSocketOptions {
  endpoint: GatewayEndpoint;
  token: string;
  room: string;
  random: Random;
  /** Frames per second this socket sends at most (below the gateway's frame rate keeps answers specific). */
  rate: number;
  /** Frames sent and not yet answered, at most. */
  window: number;
  maxFrameBytes: number;
  /** Asks the run for one frame of its budget; false when the budget is spent. */
  take: () => boolean;
}

/**
 * One fuzzing socket: sends generated frames at a bounded rate and window, matches every answer
 * to a frame (by rid where the gateway can read one, by count otherwise), and reconnects after a
 * frame that fails the connection by design.
 */
export class FuzzSocket {
  readonly counts = emptyCounts();
  private ws: WebSocket | undefined;
  private readonly ridded = new Map<number, { expect: Expectation; kind: string }>();
  /** Kinds of the frames without a readable rid, oldest first (their answers come in that order). */
  private readonly unriddedKinds: string[] = [];
  /** The frames without a rid still unanswered (the start of each), to show what went unanswered. */
  private readonly unriddedFrames: string[] = [];
  /** Frames never answered (up to 20), for the summary. */
  readonly unansweredExamples: string[] = [];
  /** Kinds of the frames that were never answered, for the summary. */
  readonly unansweredKinds = new Map<string, number>();
  private unridded = 0;
  private held: FuzzFrame | undefined;
  private expectingClose = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private nextId = 0;
  /** The socket's last events, shown with a frame left unanswered. */
  private readonly recent: string[] = [];
  private readonly startedAt = Date.now();
  private readonly next: () => FuzzFrame;

  constructor(private readonly options: FuzzSocketOptions) {
    this.next = frameGenerator(options.random, { room: options.room, nextId: () => ++this.nextId, maxFrameBytes: options.maxFrameBytes });
  }

  /** Connects and makes sure the socket's room exists and the user is in it. */
  async start(): Promise<void> {
    await this.connect();
    this.ws!.send(JSON.stringify({ type: 'create', room: this.options.room, rid: 'setup' }));
    this.timer = setInterval(() => this.tick(), Math.max(1, Math.round(1000 / this.options.rate)));
  }

  pending(): number {
    return this.ridded.size + this.unridded + (this.held ? 1 : 0);
  }

  /** Stops sending; what is pending when the run gives up waiting counts as unanswered. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  close(): void {
    this.stop();
    this.forgetPending();
    this.ws?.removeAllListeners('close');
    this.ws?.close();
  }

  private note(event: string): void {
    this.recent.push(`${Date.now() - this.startedAt}ms ${event}`);
    if (this.recent.length > 8) this.recent.shift();
  }

  /** What is still unanswered now will never be: count it, by kind. */
  private forgetPending(): void {
    if (this.ridded.size + this.unridded > 0 && this.unansweredExamples.length < 20) this.unansweredExamples.push(`socket ${this.options.room}, ws state ${this.ws?.readyState}, last events: ${this.recent.join(' | ')}`);
    this.counts.unanswered += this.ridded.size + this.unridded;
    for (const kind of [...[...this.ridded.values()].map((p) => p.kind), ...this.unriddedKinds]) this.unansweredKinds.set(kind, (this.unansweredKinds.get(kind) ?? 0) + 1);
    for (const [rid, p] of this.ridded) if (this.unansweredExamples.length < 20) this.unansweredExamples.push(`rid ${rid} (${p.kind})`);
    for (const f of this.unriddedFrames) if (this.unansweredExamples.length < 20) this.unansweredExamples.push(`no rid, oldest first: ${f}`);
    this.ridded.clear();
    this.unridded = 0;
    this.unriddedKinds.length = 0;
    this.unriddedFrames.length = 0;
  }

  private async connect(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const ws = await openSocket(this.options.endpoint, this.options.token);
        ws.on('message', (data) => this.onAnswer(String(data)));
        ws.once('close', (code) => void this.onClose(code));
        this.ws = ws;
        return;
      } catch (error) {
        if (!(error instanceof RefusedSocket) || error.code !== 4429 || attempt >= 40) throw error;
        this.counts.reconnectRefusals++;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  private tick(): void {
    if (this.stopped || !this.ws || this.expectingClose || this.pending() >= this.options.window) return;
    const frame = this.held ?? (this.options.take() ? this.next() : undefined);
    if (!frame) return;
    if (frame.expect === 'close') {
      // Sent only once everything before it is answered, so the close loses no answer.
      this.held = frame;
      if (this.ridded.size + this.unridded > 0) return;
      this.held = undefined;
      this.expectingClose = true;
      this.counts.closesExpected++;
    } else if (frame.rid !== undefined) {
      this.ridded.set(frame.rid, { expect: frame.expect, kind: frame.kind });
    } else {
      this.unridded++;
      this.unriddedKinds.push(frame.kind);
      this.unriddedFrames.push(`${frame.binary ? 'binary ' : ''}${JSON.stringify(String(frame.data).slice(0, 120))}`);
      if (frame.expect === 'error') this.counts.unriddedErrorsExpected++;
    }
    this.counts.sent++;
    this.note(`sent ${frame.kind}`);
    this.ws.send(frame.data, { binary: frame.binary });
  }

  private onAnswer(text: string): void {
    let frame: { type?: string; rid?: unknown; code?: string };
    try {
      frame = JSON.parse(text) as typeof frame;
    } catch {
      this.counts.strayAnswers++;
      return;
    }
    // A `presence` reply has the type of the pushed frame; its rid tells them apart.
    if ((pushed.has(frame.type ?? '') && frame.rid === undefined) || frame.rid === 'setup') return;
    this.counts.answered++;
    this.note(`answer ${frame.type} ${frame.code ?? ''} ${String(frame.rid ?? '')}`);
    const isError = frame.type === 'error';
    if (isError) {
      this.counts.errorAnswers++;
      if (!knownCodes.has(frame.code ?? '')) this.counts.unknownCodes++;
    }
    if (typeof frame.rid === 'number' && this.ridded.has(frame.rid)) {
      if (this.ridded.get(frame.rid)!.expect === 'error' && !isError) this.counts.missedErrors++;
      this.ridded.delete(frame.rid);
    } else if (frame.rid === undefined && this.unridded > 0) {
      this.unridded--;
      this.unriddedKinds.shift();
      this.unriddedFrames.shift();
      if (isError) this.counts.unriddedErrorAnswers++;
    } else {
      this.counts.strayAnswers++;
    }
  }

  private async onClose(code: number): Promise<void> {
    this.note(`close ${code}`);
    if (this.expectingClose) {
      this.counts.closesSeen++;
      if (!failingCloseCodes.has(code)) this.counts.wrongCloseCodes++;
    } else {
      this.counts.unexpectedCloses++;
    }
    this.expectingClose = false;
    this.forgetPending();
    this.ws = undefined;
    if (this.stopped) return;
    try {
      await this.connect();
    } catch {
      this.stop(); // the gateway is gone; the verdict reports it
    }
  }
}
