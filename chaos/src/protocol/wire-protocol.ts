/**
 * What the chaos client needs from the client wire protocol, independent of its version. A protocol
 * adapter builds the client frames and turns every server frame into one of these events; the rest
 * of the suite speaks only positions (`pos`) and the previous position (`prev`) of each message.
 */
export type ServerEvent =
  | { kind: 'welcome'; user: string; gateway: string }
  | { kind: 'ack'; rid: string | undefined; room: string; clientMsgId: string; id: string; pos: number }
  | { kind: 'message'; room: string; pos: number; prev: number; id: string; sender: string }
  | { kind: 'joined'; rid: string | undefined; room: string; head: number }
  | { kind: 'error'; rid: string | undefined; code: string; message: string; room: string | undefined }
  /** The gateway is draining: move to another one after `afterMs`. */
  | { kind: 'reconnect'; afterMs: number }
  /** A valid frame the suite does not use (presence, pong, ...). */
  | { kind: 'other'; type: string }
  /** Not a frame of this protocol: the reason names what was wrong. */
  | { kind: 'invalid'; reason: string };

export type EventOf<K extends ServerEvent['kind']> = Extract<ServerEvent, { kind: K }>;

export interface WireProtocol {
  readonly name: string;
  /** A send; `resend` marks a retry of a clientMsgId that was sent before. */
  send(frame: { rid: string; room: string; clientMsgId: string; text: string; resend: boolean }): string;
  /** A join; `after` = the last position held in the room (resume), absent = live messages only. */
  join(frame: { rid: string; room: string; after: number | undefined }): string;
  create(frame: { rid: string; room: string }): string;
  parse(text: string): ServerEvent;
  /**
   * Error codes after which the client must join the room again with the last position it holds
   * (v2's `catchup_failed`); the error's `room` names the room.
   */
  readonly rejoinCodes: readonly string[];
}
