import WebSocket from 'ws';
import type { DeliveryLedger } from '../ledger/delivery-ledger.js';
import type { ServerEvent, WireProtocol } from '../protocol/wire-protocol.js';
import type { ClientStats } from './client-stats.js';
import { clientSubprotocols } from '@chorus/shared/protocol/auth-subprotocol';
import { DrainLeave } from '@chorus/shared/protocol/drain-leave';

export interface ChaosClientOptions {
  user: string;
  token: string;
  /** Every gateway's http base URL; the client starts at `firstGateway` and rotates on reconnect. */
  gatewayUrls: string[];
  firstGateway: number;
  protocol: WireProtocol;
  ledger: DeliveryLedger;
  stats: ClientStats;
  /** A send with no answer for this long is sent again (same clientMsgId). */
  ackTimeoutMs: number;
  /** Most unanswered sends per user; the outbox is bounded. */
  maxPending: number;
  /** A socket without a welcome frame this long is dropped and the next gateway tried (default 3 s). */
  connectTimeoutMs?: number;
  /** Called on every welcome after the first: a reconnect landed (the reconnect rate). */
  onReconnected?: (now: number) => void;
}

interface PendingSend {
  clientMsgId: string;
  room: string;
  text: string;
  attempts: number;
  /** Waiting for an answer to the attempt sent at this time. */
  inFlightSince: number | undefined;
  /** Do not try again before this time (backoff after `unavailable`). */
  notBefore: number;
  sawUnavailable: boolean;
}

interface RoomState {
  /** Set up: the ledger counts this user a member, and every (re)connect resumes the room. */
  member: boolean;
  /** Joined on the current socket. */
  joined: boolean;
  /** The rid of the latest join on this socket: an error with it, even after `joined`, means resume again. */
  joinRid: string | undefined;
  /** Resumes of this room that failed in a row (backoff). */
  resumeFailures: number;
  /** A resume after an out-of-order delivery is under way. */
  repairing: boolean;
  resumeTimer: NodeJS.Timeout | undefined;
  waiter: { resolve(head: number): void; reject(error: Error): void } | undefined;
}

const retryBackoffMs = (attempt: number) => Math.min(2_000, 100 * 2 ** Math.min(attempt, 5));
/** Jittered, so a hundred clients that lost one gateway do not retry in step. */
const resumeBackoffMs = (failures: number) => Math.min(5_000, 250 * 2 ** Math.min(failures, 5)) * (0.5 + Math.random() / 2);
const reconnectDelayMs = (failures: number) => Math.min(1_000, 50 * 2 ** failures);

/**
 * One chat user with an exact outbox: every send keeps its clientMsgId until it is acked and is sent
 * again on `unavailable`, on a timeout and after a reconnect. When the socket closes, the client
 * connects to the next gateway in the list and resumes each room with join + after(the last
 * position the ledger holds for it). Every frame it receives goes to the ledger.
 */
export class ChaosClient {
  private socket: WebSocket | undefined;
  private gateway: number;
  private welcomed = false;
  private everWelcomed = false;
  private closing = false;
  /** Leaving a draining gateway: no new attempts on this socket; it closes once its sends are answered. */
  private readonly drain = new DrainLeave<WebSocket>({
    current: () => this.socket,
    inFlight: () => [...this.pending.values()].some((send) => send.inFlightSince !== undefined),
    close: (socket) => socket.close(1000, 'moving to another gateway'),
  });
  private connectFailures = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private nextRid = 0;
  private sendCounter = 0;
  private readonly pending = new Map<string, PendingSend>();
  private readonly rooms = new Map<string, RoomState>();
  private connectWaiter: { resolve(): void; reject(error: Error): void } | undefined;

  constructor(private readonly options: ChaosClientOptions) {
    this.gateway = options.firstGateway % options.gatewayUrls.length;
  }

  get user(): string {
    return this.options.user;
  }

  get connected(): boolean {
    return this.welcomed;
  }

  get unanswered(): number {
    return this.pending.size;
  }

  /** Connects for the first time; later connects happen by themselves. */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.connectWaiter = { resolve, reject };
      this.open();
    });
  }

  /** Creates (`create`) or joins the room once, for set-up; resolves with the head the reply reports. */
  enter(room: string, create: boolean): Promise<number> {
    if (this.rooms.has(room)) throw new Error(`${this.user} already entered ${room}`);
    const state: RoomState = { member: false, joined: false, joinRid: undefined, resumeFailures: 0, repairing: false, resumeTimer: undefined, waiter: undefined };
    this.rooms.set(room, state);
    return new Promise((resolve, reject) => {
      state.waiter = { resolve, reject };
      const rid = this.rid('j');
      state.joinRid = rid;
      this.write(create ? this.options.protocol.create({ rid, room }) : this.options.protocol.join({ rid, room, after: undefined }));
    });
  }

  /** The ledger now counts this user a member of `room`: resume it on every reconnect from now on. */
  memberOf(room: string): void {
    const state = this.rooms.get(room);
    if (!state) throw new Error(`${this.user} has not entered ${room}`);
    state.member = true;
  }

  /** Starts a new send with a unique clientMsgId; false when the outbox is full. */
  send(room: string, now: number): boolean {
    if (this.pending.size >= this.options.maxPending) {
      this.options.stats.skipped++;
      return false;
    }
    const clientMsgId = `${this.user}.${++this.sendCounter}`;
    const send: PendingSend = { clientMsgId, room, text: `chaos ${clientMsgId}`, attempts: 0, inFlightSince: undefined, notBefore: now, sawUnavailable: false };
    this.pending.set(clientMsgId, send);
    this.options.stats.sends++;
    this.attempt(send, now);
    return true;
  }

  /** Retries what is due: sends without an answer in time, and sends backing off after `unavailable`. */
  tick(now: number): void {
    if (!this.welcomed || this.drain.leaving) return;
    for (const send of this.pending.values()) {
      if (send.inFlightSince === undefined) {
        if (send.notBefore <= now) this.attempt(send, now);
      } else if (now - send.inFlightSince >= this.options.ackTimeoutMs) {
        this.options.stats.timeouts++;
        this.attempt(send, now);
      }
    }
  }

  close(): void {
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    this.drain.reset();
    this.socket?.terminate();
    this.connectWaiter?.reject(new Error(`${this.user}: closed before it connected`));
    this.connectWaiter = undefined;
    for (const state of this.rooms.values()) {
      clearTimeout(state.resumeTimer);
      state.waiter?.reject(new Error('closed'));
    }
  }

  private attempt(send: PendingSend, now: number): void {
    if (!this.welcomed || this.drain.leaving) return; // sent on the next welcome
    const resend = send.attempts > 0;
    send.attempts++;
    send.inFlightSince = now;
    this.options.stats.attempts++;
    const rid = `s:${send.clientMsgId}`;
    this.write(this.options.protocol.send({ rid, room: send.room, clientMsgId: send.clientMsgId, text: send.text, resend }));
  }

  private open(): void {
    if (this.closing) return;
    const base = this.options.gatewayUrls[this.gateway]!;
    const url = `${base.replace(/^http/, 'ws')}/ws`;
    const socket = new WebSocket(url, clientSubprotocols(this.options.token), { perMessageDeflate: false, handshakeTimeout: this.options.connectTimeoutMs ?? 3_000 });
    this.socket = socket;
    this.welcomed = false;
    // No welcome in time (a paused or half-dead gateway): give up on this socket.
    const welcomeTimer = setTimeout(() => socket.terminate(), this.options.connectTimeoutMs ?? 3_000);
    socket.on('message', (data, isBinary) => {
      if (socket !== this.socket) return;
      if (isBinary) return this.invalid('a binary frame');
      const event = this.options.protocol.parse(data.toString());
      if (event.kind === 'welcome') clearTimeout(welcomeTimer);
      this.handle(event);
    });
    socket.on('error', () => {}); // 'close' follows and does the accounting
    socket.on('close', () => {
      clearTimeout(welcomeTimer);
      if (socket !== this.socket) return;
      const wasWelcomed = this.welcomed;
      this.welcomed = false;
      this.drain.reset();
      for (const state of this.rooms.values()) {
        state.joined = false;
        state.joinRid = undefined;
        state.repairing = false;
      }
      if (this.closing) return;
      if (wasWelcomed) {
        this.options.stats.disconnects++;
        this.connectFailures = 0;
      } else {
        this.options.stats.connectFailures++;
        this.connectFailures++;
      }
      // The gateway may be gone: the next try goes to the next one in the list.
      this.gateway = (this.gateway + 1) % this.options.gatewayUrls.length;
      this.reconnectTimer = setTimeout(() => this.open(), wasWelcomed ? 0 : reconnectDelayMs(this.connectFailures));
    });
  }

  private handle(event: ServerEvent): void {
    const now = performance.now();
    switch (event.kind) {
      case 'message': {
        const outcome = this.options.ledger.delivered(this.user, event.room, event.id, event.sender, event.pos, event.prev);
        const state = this.rooms.get(event.room);
        // Out of order: drop it and resume after the last position held (once per break).
        if (outcome === 'out-of-order' && state?.member && !state.repairing) {
          state.repairing = true;
          this.options.stats.repairs++;
          this.resume(event.room, state);
        }
        return;
      }
      case 'ack': {
        this.options.ledger.acked(event.room, this.user, event.id, event.pos);
        const send = this.pending.get(event.clientMsgId);
        if (!send) return; // a second answer to a retried send: the ledger checked its position
        this.pending.delete(event.clientMsgId);
        this.drain.answered();
        this.options.stats.acked++;
        if (send.sawUnavailable) this.options.stats.unavailableThenAcked++;
        return;
      }
      case 'joined':
        return this.onJoined(event.rid, event.room, event.head);
      case 'error':
        return this.onError(event, now);
      case 'welcome':
        return this.onWelcome(now);
      case 'reconnect':
        return this.onReconnect(event.afterMs);
      case 'invalid':
        return this.invalid(event.reason);
      case 'other':
        return;
    }
  }

  /**
   * The gateway is draining: after the delay it gave, stop sending on this socket, let the sends in
   * flight be answered (briefly), then close it; the close handler moves to the next gateway and
   * resumes every room with `after`, and the outbox is sent again there.
   */
  private onReconnect(afterMs: number): void {
    if (this.socket) this.drain.schedule(this.socket, afterMs, () => this.options.stats.drainMoves++);
  }

  private onWelcome(now: number): void {
    if (this.everWelcomed) this.options.onReconnected?.(now);
    this.everWelcomed = true;
    this.welcomed = true;
    this.connectFailures = 0;
    this.connectWaiter?.resolve();
    this.connectWaiter = undefined;
    for (const [room, state] of this.rooms) if (state.member) this.resume(room, state);
    for (const send of this.pending.values()) {
      if (send.inFlightSince !== undefined) this.options.stats.resentAfterReconnect++;
      send.inFlightSince = undefined;
      this.attempt(send, now);
    }
  }

  private resume(room: string, state: RoomState): void {
    clearTimeout(state.resumeTimer);
    const rid = this.rid('j');
    state.joinRid = rid;
    state.joined = false;
    this.options.stats.resumes++;
    this.write(this.options.protocol.join({ rid, room, after: this.options.ledger.lastHeld(this.user, room) }));
  }

  private onJoined(rid: string | undefined, room: string, head: number): void {
    const state = this.rooms.get(room);
    if (!state || rid === undefined || rid !== state.joinRid) return;
    state.joined = true;
    state.resumeFailures = 0;
    state.repairing = false;
    if (state.member) this.options.ledger.resumed(this.user, room);
    state.waiter?.resolve(head);
    state.waiter = undefined;
  }

  private onError(event: Extract<ServerEvent, { kind: 'error' }>, now: number): void {
    const rid = event.rid ?? '';
    if (rid.startsWith('s:')) {
      const send = this.pending.get(rid.slice(2));
      if (!send) return;
      send.inFlightSince = undefined;
      this.drain.answered();
      send.notBefore = now + retryBackoffMs(send.attempts);
      if (event.code === 'unavailable') {
        this.options.stats.unavailable++;
        send.sawUnavailable = true;
      } else {
        this.options.stats.sendErrors[event.code] = (this.options.stats.sendErrors[event.code] ?? 0) + 1;
      }
      return;
    }
    const room = [...this.rooms].find(([, state]) => state.joinRid !== undefined && state.joinRid === rid);
    if (room) {
      const [name, state] = room;
      this.options.stats.joinErrors[event.code] = (this.options.stats.joinErrors[event.code] ?? 0) + 1;
      state.joinRid = undefined;
      if (state.waiter) {
        state.waiter.reject(new Error(`${this.user}: entering ${name} failed: ${event.code} ${event.message}`));
        state.waiter = undefined;
        return;
      }
      // A resume that failed (a backend is down), or its catch-up after `joined` did.
      this.scheduleResume(name, state);
      return;
    }
    if (event.room !== undefined && this.options.protocol.rejoinCodes.includes(event.code)) {
      const state = this.rooms.get(event.room);
      if (!state?.member) return;
      this.options.stats.joinErrors[event.code] = (this.options.stats.joinErrors[event.code] ?? 0) + 1;
      this.scheduleResume(event.room, state);
    }
  }

  /** Resumes the room again after a backoff, while this socket lives (a new socket resumes anyway). */
  private scheduleResume(room: string, state: RoomState): void {
    state.joined = false;
    state.joinRid = undefined;
    clearTimeout(state.resumeTimer);
    const socket = this.socket;
    state.resumeTimer = setTimeout(() => {
      if (this.socket === socket && this.welcomed && state.joinRid === undefined) this.resume(room, state);
    }, resumeBackoffMs(state.resumeFailures++));
  }

  private invalid(reason: string): void {
    this.options.stats.invalidFrames++;
    this.options.stats.lastInvalid = reason;
  }

  private rid(prefix: string): string {
    return `${prefix}:${++this.nextRid}`;
  }

  private write(text: string): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(text);
  }
}
