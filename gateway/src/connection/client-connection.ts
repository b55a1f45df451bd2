import type { Writable } from 'node:stream';
import type { WebSocket, RawData } from 'ws';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { parseClientFrame } from '@chorus/shared/protocol/parse-client-frame';
import type { ClientFrame, HistoryFrame, JoinFrame, RefreshFrame, SendFrame } from '@chorus/shared/protocol/client-frames';
import { closeCodes } from '@chorus/shared/protocol/close-codes';
import type { RpcErrorDetails } from '@chorus/shared/bus/payloads';
import type { ErrorCode } from '@chorus/shared/protocol/error-codes';
import type { RequestId, ServerFrame } from '@chorus/shared/protocol/server-frames';
import { messageIdFor } from '@chorus/shared/protocol/message-id';
import { protocolLimits } from '@chorus/shared/protocol/limits';
import { tracer } from '@chorus/shared/telemetry/tracing';
import { limitNames } from '@chorus/shared/protocol/limit-names';
import { SessionLifetime } from '../auth/session-lifetime.js';
import type { VerifiedToken } from '../auth/verified-token.js';
import { BackendError } from '../backend/message-service-client.js';
import { RoomAttachment } from '../ordering/room-attachment.js';
import type { RoomFeed } from '../ordering/room-feed.js';
import { isBackendOutage } from './backend-outage.js';
import type { PreparedFrame } from './prepared-frame.js';
import { corkUntilTurnEnds } from './turn-cork.js';
import { waitAtMost } from '@chorus/shared/concurrency/wait-at-most';
import type { GatewayServices } from './gateway-services.js';
import type { FrameLimiter } from '../limits/frame-limiter.js';
import { isRoomAdminFrame, roomAdminReplyOf, roomAdminRequestOf, type RoomAdminFrame } from './room-admin-frames.js';

let sessionCount = 0;

/** A refusal the client should see as an error frame. */
class ClientError extends Error {
  constructor(readonly code: ErrorCode, message: string, readonly details: ErrorDetails = {}) {
    super(message);
  }
}

/** Extra fields of an error frame: `holder` with `lease_held`; `limit`, `retryAfterMs` with the limits. */
type ErrorDetails = RpcErrorDetails;

/**
 * One authenticated WebSocket: validates every frame, answers it, and keeps the socket's room
 * attachments. A bad frame gets an error frame and nothing else happens; the socket stays usable.
 */
export class ClientConnection {
  private readonly attachments = new Map<string, RoomAttachment>();
  private readonly limiter: FrameLimiter;
  private closed = false;
  readonly user: string;
  private currentToken: VerifiedToken;
  private readonly lifetime: SessionLifetime;
  /** Names this connection to the edit leases: a second socket of the same user is another session. */
  readonly session: string;
  private heldLeases = false;
  /** Frames being answered now; a drain waits for them before it closes the socket. */
  private readonly answering = new Set<Promise<void>>();
  /** The gateway is closing this socket: new frames are refused with `unavailable`. */
  private leaving = false;

  constructor(
    private readonly socket: WebSocket,
    token: VerifiedToken,
    private readonly services: GatewayServices,
    /**
     * The TCP socket under `socket`: prepared frames are written to it as they are, and writes
     * are held until the end of the event-loop turn. Without it (tests) frames go through ws.
     */
    private readonly wire?: Writable,
  ) {
    this.user = token.user;
    this.currentToken = token;
    this.limiter = services.frameLimits.open(token.user);
    this.lifetime = new SessionLifetime(token.expiresAt, services.auth.clockToleranceSeconds * 1000, () =>
      this.end(closeCodes.tokenExpired, 'token_expired'),
    );
    this.session = `${services.gatewayId}/${process.pid}/${++sessionCount}`;
    socket.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    socket.on('close', () => void this.onClose());
    socket.on('error', () => socket.terminate());
    this.send({ type: 'welcome', user: this.user, gateway: services.gatewayId, expiresAt: this.lifetime.expiresAtMs });
    void services.presence.connected(this.user).catch(() => {});
  }

  /** The token this socket currently lives on (the last one refreshed). */
  get token(): VerifiedToken {
    return this.currentToken;
  }

  /** Closes the socket for a reason the code tells the client (expiry, revocation, drain). */
  end(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.lifetime.stop();
    this.socket.close(code, reason);
  }

  sendRaw(frame: string | PreparedFrame): void {
    if (this.closed) return;
    if (this.socket.bufferedAmount > this.services.maxBufferedBytes) {
      // Slow consumer: close instead of buffering without bound. The client resumes with afterSeq.
      this.socket.close(1013, 'slow consumer; reconnect and resume');
      this.closed = true;
      this.services.metrics.slowConsumers.inc();
      return;
    }
    const wire = this.wire;
    if (!wire) return this.socket.send(typeof frame === 'string' ? frame : frame.json);
    corkUntilTurnEnds(wire);
    if (typeof frame === 'string') return this.socket.send(frame);
    // ws writes its own frames (pongs, close) to the same socket synchronously, so order holds;
    // nothing may follow a close frame, which ws sends only once the socket is no longer OPEN.
    if (this.socket.readyState === this.socket.OPEN && wire.writable) wire.write(frame.wire);
  }

  private send(frame: ServerFrame): void {
    this.sendRaw(JSON.stringify(frame));
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    if (isBinary) {
      if (!this.admitted('other', undefined, undefined)) return;
      return this.sendError('binary_not_supported', 'frames are JSON text', undefined);
    }
    // ws hands a Buffer (binaryType nodebuffer); Buffer.from(buffer) would copy every frame.
    const raw = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    // Parsing first is bounded by the frame size limit and lets a refusal carry the frame's rid.
    const parsed = parseClientFrame(raw, this.services.maxFrameBytes);
    if (!parsed.ok) {
      if (!this.admitted('other', parsed.rid, parsed.request)) return;
      return this.sendError(parsed.code, parsed.message, parsed.rid, parsed.request);
    }
    const frame = parsed.frame;
    if (this.leaving) {
      return this.sendError('unavailable', 'this gateway is shutting down; reconnect to another and send it again (for send: not stored)', frame.rid, frame.type);
    }
    if (!this.admitted(frame.type === 'send' ? 'send' : 'other', frame.rid, frame.type)) return;
    this.services.metrics.frames.inc({ type: frame.type });
    const answered = this.handle(frame).catch((error: unknown) => {
      if (error instanceof ClientError || error instanceof BackendError) {
        if (error.code === 'unavailable') this.services.log.warn({ user: this.user, type: frame.type, reason: error.message }, 'answered unavailable');
        this.sendError(error.code, error.message, frame.rid, frame.type, error.details);
      } else if (isBackendOutage(error)) {
        this.services.log.warn({ err: error, user: this.user, type: frame.type }, 'backend unavailable');
        this.sendError('unavailable', `a backend is unavailable, try again: ${(error as Error).message}`, frame.rid, frame.type);
      } else {
        this.services.log.error({ err: error, user: this.user, type: frame.type }, 'request failed');
        this.sendError('internal', 'internal error', frame.rid, frame.type);
      }
    });
    this.answering.add(answered);
    void answered.finally(() => this.answering.delete(answered));
  }

  /** Drain: tells the client to reconnect elsewhere after `afterMs` (the `reconnect` frame). */
  announceReconnect(afterMs: number): void {
    this.send({ type: 'reconnect', afterMs, reason: 'draining' });
  }

  /**
   * Drain, for a client that stayed past its delay: refuses new frames, waits until every frame
   * accepted so far is answered (a send: acked or refused) or `deadline` (performance.now()) passes,
   * then closes with 1012.
   */
  async closeAfterAnswers(deadline: number): Promise<void> {
    if (this.closed) return;
    this.leaving = true;
    await waitAtMost(Promise.allSettled([...this.answering]), deadline - performance.now());
    this.end(closeCodes.draining, 'gateway draining; reconnect to another');
  }

  /** Charges the frame to the socket's rate limits; a refused frame is answered `rate_limited`. */
  private admitted(kind: 'send' | 'other', rid: RequestId | undefined, request: string | undefined): boolean {
    const admission = this.limiter.admit(kind);
    if (admission.ok) return true;
    const what = kind === 'send' ? 'messages (this one was not stored; send it again later)' : 'frames';
    this.sendError('rate_limited', `too many ${what}; retry in ${admission.retryAfterMs} ms`, rid, request, {
      limit: admission.limit,
      retryAfterMs: admission.retryAfterMs,
    });
    return false;
  }

  private sendError(code: ErrorCode, message: string, rid: RequestId | undefined, request?: string, details: ErrorDetails = {}): void {
    this.services.metrics.errors.inc({ code });
    this.send({ type: 'error', code, message, ...(rid !== undefined && { rid }), ...(request !== undefined && { request }), ...details });
  }

  private async handle(frame: ClientFrame): Promise<void> {
    const { backend, presence } = this.services;
    const rid = frame.rid !== undefined ? { rid: frame.rid } : {};
    if (isRoomAdminFrame(frame)) return this.roomAdmin(frame);
    switch (frame.type) {
      case 'send':
        return this.sendMessage(frame);
      case 'create': {
        this.requireRoomSlot(frame.room);
        await backend.rooms({
          op: 'create',
          room: frame.room,
          user: this.user,
          ...(frame.visibility !== undefined && { visibility: frame.visibility }),
          ...(frame.history !== undefined && { history: frame.history }),
        });
        await this.services.membership.created(frame.room, this.user);
        const attachment = await this.attach(frame.room, undefined);
        return this.send({ type: 'joined', ...rid, room: frame.room, head: attachment.position, created: true, readFrom: 0 });
      }
      case 'join':
        return this.join(frame);
      case 'leave': {
        await backend.rooms({ op: 'leave', room: frame.room, user: this.user });
        await this.services.membership.changed(frame.room, this.user, false);
        await this.detach(frame.room);
        return this.send({ type: 'left', ...rid, room: frame.room });
      }
      case 'history':
        return this.history(frame);
      case 'presence': {
        await this.requireMember(frame.room);
        return this.send({ type: 'presence', ...rid, room: frame.room, online: await presence.online(frame.room) });
      }
      case 'rooms': {
        const { rooms, invites } = await backend.rooms({ op: 'list', user: this.user });
        return this.send({ type: 'rooms', ...rid, rooms, invites });
      }
      case 'ping':
        return this.send({ type: 'pong', ...rid });
      case 'refresh':
        return this.refresh(frame);
    }
  }

  private async refresh(frame: RefreshFrame): Promise<void> {
    const verified = await this.services.auth.verifier.verify(frame.token);
    if (!verified.ok) throw new ClientError('invalid_token', `the new token was refused: ${verified.reason}`);
    if (verified.token.user !== this.user) throw new ClientError('invalid_token', 'the new token is for another user; open a new socket for it');
    let revoked: boolean;
    try {
      revoked = await this.services.auth.revocations.isRevoked(verified.token);
    } catch (error) {
      throw new ClientError('unavailable', `the revocation list is unreachable; refresh again (${(error as Error).message})`);
    }
    if (revoked) throw new ClientError('invalid_token', 'the new token was revoked');
    this.currentToken = verified.token;
    this.lifetime.renew(verified.token.expiresAt);
    this.send({ type: 'refreshed', ...(frame.rid !== undefined && { rid: frame.rid }), expiresAt: this.lifetime.expiresAtMs });
  }

  private async sendMessage(frame: SendFrame): Promise<void> {
    const stopTimer = this.services.metrics.ackSeconds.startTimer();
    const span = tracer().startSpan('gateway.receive', {
      kind: SpanKind.SERVER,
      attributes: { 'chorus.room': frame.room, 'chorus.user': this.user, 'chorus.gateway': this.services.gatewayId },
    });
    try {
      await context.with(trace.setSpan(context.active(), span), async () => {
        await this.requireMember(frame.room);
        const id = messageIdFor(this.user, frame.clientMsgId);
        span.setAttribute('chorus.message.id', id);
        const message = { id, room: frame.room, sender: this.user, text: frame.text, ts: Date.now(), clientMsgId: frame.clientMsgId };
        let published;
        try {
          published = await this.services.publisher.publish(message, frame.resend === true);
        } catch (error) {
          if (error instanceof BackendError) throw error;
          throw new ClientError('unavailable', `the message was not stored, send it again with the same clientMsgId and resend: true (${(error as Error).message})`);
        }
        span.setAttribute('chorus.pos', published.pos);
        this.send({
          type: 'ack',
          ...(frame.rid !== undefined && { rid: frame.rid }),
          room: frame.room,
          clientMsgId: frame.clientMsgId,
          id,
          pos: published.pos,
          ...(published.duplicate && { duplicate: true }),
        });
        stopTimer();
      });
    } finally {
      span.end();
    }
  }

  /**
   * Every join asks the message-service, which owns the room rules: a banned or removed user
   * cannot resume from a cache, and the answer's `readFrom` keeps a `since_join` member's resume
   * from reading before their join. For a member it is a read, not a write.
   */
  private async join(frame: JoinFrame): Promise<void> {
    this.requireRoomSlot(frame.room);
    const { readFrom } = await this.services.backend.rooms({ op: 'join', room: frame.room, user: this.user });
    await this.services.membership.changed(frame.room, this.user, true);
    const after = frame.after === undefined ? undefined : Math.max(frame.after, readFrom);
    const attachment = await this.attach(frame.room, after);
    this.send({ type: 'joined', ...(frame.rid !== undefined && { rid: frame.rid }), room: frame.room, head: attachment.position, created: false, readFrom });
    if (attachment.catchingUp) await attachment.catchUp();
  }

  private async roomAdmin(frame: RoomAdminFrame): Promise<void> {
    if (frame.type === 'lease_acquire') this.heldLeases = true;
    const result = await this.services.backend.roomAdmin(roomAdminRequestOf(frame, this.user, this.session));
    this.send(roomAdminReplyOf(frame, result));
  }

  /**
   * An admin removed or banned this user: stop the room's messages to this socket now and say
   * why. Called by the gateway on the membership broadcast, so it happens on every gateway.
   */
  async endRoom(room: string, reason: 'removed' | 'banned'): Promise<void> {
    if (!this.attachments.has(room)) return;
    await this.detach(room);
    this.send({ type: 'removed', room, reason });
  }

  private async history(frame: HistoryFrame): Promise<void> {
    await this.requireMember(frame.room);
    const page = await this.services.backend.history({
      room: frame.room,
      user: this.user,
      limit: frame.limit ?? protocolLimits.defaultHistoryLimit,
      ...(frame.before !== undefined && { before: frame.before }),
      ...(frame.after !== undefined && { after: frame.after }),
    });
    this.send({ type: 'history', ...(frame.rid !== undefined && { rid: frame.rid }), room: frame.room, messages: page.messages, hasMore: page.hasMore });
  }

  private async requireMember(room: string): Promise<void> {
    if (!(await this.services.membership.isMember(room, this.user))) {
      throw new ClientError('not_member', `${this.user} is not a member of room ${room}; join it first`);
    }
  }

  private requireRoomSlot(room: string): void {
    if (!this.attachments.has(room) && this.attachments.size >= this.services.maxRoomsPerSocket) {
      throw new ClientError('limit_exceeded', `a socket can be in at most ${this.services.maxRoomsPerSocket} rooms; leave one first`, {
        limit: limitNames.roomsPerSocket,
      });
    }
  }

  private async attach(room: string, after: number | undefined): Promise<RoomAttachment> {
    await this.detach(room);
    const { hub, reader } = this.services;
    let feed: RoomFeed | undefined;
    const attachment = new RoomAttachment(
      room,
      this,
      {
        recentAfter: (position) => feed?.recentAfter(position),
        read: (position, limit) => reader.read(room, position, limit),
      },
      (failed, error) => void this.catchUpFailed(failed, error),
    );
    this.attachments.set(room, attachment);
    try {
      feed = await hub.attach(room, attachment);
    } catch (error) {
      this.attachments.delete(room);
      throw new BackendError('unavailable', `room ${room} could not be opened: ${(error as Error).message}`);
    }
    attachment.startAt(after, feed.head);
    await this.services.presence.entered(room, this.user).catch(() => {});
    // The socket closed while we were attaching: onClose did not see this attachment.
    if (this.closed) await this.detach(room);
    return attachment;
  }

  private async catchUpFailed(attachment: RoomAttachment, error: unknown): Promise<void> {
    if (this.attachments.get(attachment.room) !== attachment) return;
    this.services.log.warn({ err: error, room: attachment.room, user: this.user, after: attachment.position }, 'catch-up failed; the client was told to join again');
    await this.detach(attachment.room).catch(() => {});
    this.services.metrics.errors.inc({ code: 'catchup_failed' });
    this.send({
      type: 'error',
      code: 'catchup_failed',
      message: `the missed messages of ${attachment.room} could not be read; join again with after ${attachment.position}`,
      request: 'join',
      room: attachment.room,
      after: attachment.position,
    });
  }

  private async detach(room: string): Promise<void> {
    const attachment = this.attachments.get(room);
    if (!attachment) return;
    this.attachments.delete(room);
    attachment.stop();
    await this.services.hub.detach(room, attachment);
    await this.services.presence.left(room, this.user).catch(() => {});
  }

  private async onClose(): Promise<void> {
    this.closed = true;
    this.limiter.release();
    this.lifetime.stop();
    for (const room of [...this.attachments.keys()]) await this.detach(room).catch(() => {});
    await this.services.presence.disconnected(this.user).catch(() => {});
    // Its leases end now, not at expiry, so another admin can edit at once.
    if (this.heldLeases) await this.services.backend.roomAdmin({ op: 'release_session', session: this.session }).catch(() => {});
  }
}
