/**
 * The few operations a peer system's load driver needs, so one load run (PeerLoadRun) drives any
 * peer: connect as a user, join a room, send to it, and report replies and deliveries to a sink.
 */

/** Where one connection's traffic goes: one object for the whole run, shared by every user. */
export interface PeerSink {
  /** The system accepted send `clientMsgId` of user `user`. */
  onAck(user: number, clientMsgId: string, receivedAtMs: number): void;
  onSendError(user: number, clientMsgId: string, code: string, message: string): void;
  /**
   * Message `id` (the sender's clientMsgId) arrived at `user` in `room`. `seq` is the system's
   * per-room position when it has one (consecutive per room), else undefined.
   */
  onMessage(user: number, room: string, id: string, seq: number | undefined, text: string, receivedAtMs: number): void;
  /** A frame that does not match the peer's protocol; counted as an error. */
  onBadFrame(user: number, reason: string): void;
  onClose(user: number, code: number): void;
}

export interface PeerConnection {
  readonly open: boolean;
  readonly closed: boolean;
  /** Resolves once the system confirmed the membership; rejects with a PeerError otherwise. */
  join(room: string, timeoutMs: number): Promise<void>;
  /** Fire and forget: the reply comes to the sink. False when the connection is not open. */
  send(room: string, clientMsgId: string, text: string): boolean;
  close(): void;
  terminate(): void;
}

export interface PeerConnectOptions {
  user: number;
  name: string;
  endpoint: string;
  sink: PeerSink;
  timeoutMs: number;
}

export interface PeerProtocol {
  connect(options: PeerConnectOptions): Promise<PeerConnection>;
}

/** A failed connect or join; `code` goes into the report's counts. */
export class PeerError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}
