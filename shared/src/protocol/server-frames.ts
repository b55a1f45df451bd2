import type { ErrorCode } from './error-codes.js';
import type { RoomRole, RoomSettings, RoomVisibility } from './room-rules.js';

/** Frames the gateway sends. Replies echo the request's `rid`. */
export type RequestId = string | number;

/**
 * A chat message as every receiver sees it. `pos` is its position in the room: the stream
 * sequence JetStream gave it, strictly increasing per room but not gapless (other rooms' messages
 * share the sequence). `prev` is the position of the room's message before it (0 for the room's
 * first), so a receiver that holds `prev` knows it has everything up to `pos`.
 */
export interface ChatMessage {
  room: string;
  pos: number;
  prev: number;
  id: string;
  sender: string;
  text: string;
  /** Milliseconds since the epoch, set by the gateway that accepted the message. */
  ts: number;
}

export interface WelcomeFrame {
  type: 'welcome';
  user: string;
  gateway: string;
  /** When the token ends this socket (ms since epoch, close code 4001) unless a `refresh` comes first. */
  expiresAt: number;
}
/** Reply to `refresh`: the socket now lives until the new token's expiry. */
export interface RefreshedFrame {
  type: 'refreshed';
  rid?: RequestId;
  expiresAt: number;
}
export interface AckFrame {
  type: 'ack';
  rid?: RequestId;
  room: string;
  clientMsgId: string;
  id: string;
  /** The message's position in the room (for a retried send: the original's). */
  pos: number;
  /** True when this clientMsgId was stored before: nothing new was stored. */
  duplicate?: boolean;
}
export interface MessageFrame extends ChatMessage {
  type: 'message';
}
export interface JoinedFrame {
  type: 'joined';
  rid?: RequestId;
  room: string;
  /** Position of the room's newest message when the join was served (0: none yet). */
  head: number;
  created: boolean;
  /** The user reads messages after this position only (0: the whole history; see docs/rooms.md). */
  readFrom: number;
}
export interface LeftFrame {
  type: 'left';
  rid?: RequestId;
  room: string;
}
export interface HistoryReplyFrame {
  type: 'history';
  rid?: RequestId;
  room: string;
  messages: ChatMessage[];
  /** More messages exist beyond this page in the direction asked. */
  hasMore: boolean;
}
export interface PresenceReplyFrame {
  type: 'presence';
  rid?: RequestId;
  room: string;
  online: string[];
}
export interface RoomsReplyFrame {
  type: 'rooms';
  rid?: RequestId;
  rooms: { room: string; head: number; visibility: RoomVisibility; role: RoomRole }[];
  /** Private rooms the user is invited to and may join. */
  invites: string[];
}
/** Reply to a member operation (invite, add, remove, ban, unban, promote, demote, transfer). */
export interface MemberUpdatedFrame {
  type: 'member_updated';
  rid?: RequestId;
  room: string;
  user: string;
  state: 'member' | 'invited' | 'banned' | 'none';
  role?: RoomRole;
}
export interface SettingsReplyFrame {
  type: 'settings';
  rid?: RequestId;
  room: string;
  settings: RoomSettings;
}
export interface LeaseView {
  target: string;
  holder: string;
  fence: number;
  expiresAt: number;
}
/** A room as its admin panel shows it: the message-service's answer, as the client gets it. */
export interface RoomInfoView {
  room: string;
  settings: RoomSettings;
  owner: string;
  /** The asking user's role. */
  role: RoomRole;
  /** At most `maxListed` of each, by name. */
  members: { user: string; role: RoomRole }[];
  invites: string[];
  bans: string[];
  /** Edit leases held now, by any session. */
  leases: LeaseView[];
  truncated: boolean;
}
export interface RoomInfoReplyFrame extends RoomInfoView {
  type: 'room_info';
  rid?: RequestId;
}
/** Reply to lease_acquire and lease_renew: this connection holds the lease until `expiresAt`. */
export interface LeaseFrame extends LeaseView {
  type: 'lease';
  rid?: RequestId;
  room: string;
}
export interface LeaseReleasedFrame {
  type: 'lease_released';
  rid?: RequestId;
  room: string;
  target: string;
}
/**
 * Pushed when an admin removed or banned this user: the gateway stopped the room's messages to
 * this socket at once (on every gateway).
 */
export interface RemovedFrame {
  type: 'removed';
  room: string;
  reason: 'removed' | 'banned';
}
/**
 * Pushed once when the gateway starts draining (SIGTERM): reconnect to another gateway after
 * `afterMs` (each socket gets its own delay, spread over the drain window, so the clients of a
 * draining gateway do not all reconnect in the same second). Until then the socket works as before;
 * at `afterMs` the client closes it (code 1000) and resumes each room with `join` + `after` on a
 * new socket. A socket still open a little later is closed by the gateway with 1012, after its
 * sends were answered.
 */
export interface ReconnectFrame {
  type: 'reconnect';
  afterMs: number;
  reason: 'draining';
}
export interface PongFrame {
  type: 'pong';
  rid?: RequestId;
}
export interface ErrorFrame {
  type: 'error';
  rid?: RequestId;
  code: ErrorCode;
  message: string;
  /** The `type` of the frame this error answers, when it could be read. */
  request?: string;
  /** The room the error is about, when it is about one (e.g. `catchup_failed`). */
  room?: string;
  /**
   * With `catchup_failed`: the last position of the room this socket was sent; join again with
   * `after` set to it (the gateway stopped the room's live messages for this socket).
   */
  after?: number;
  /** With `rate_limited` (and a time-window `limit_exceeded`): wait this long before trying again (ms). */
  retryAfterMs?: number;
  /** With `limit_exceeded` and `rate_limited`: the name of the limit (see docs/limits.md). */
  limit?: string;
  /** With `lease_held`: the user whose session holds the lease. */
  holder?: string;
}

export type ServerFrame =
  | WelcomeFrame
  | AckFrame
  | MessageFrame
  | JoinedFrame
  | LeftFrame
  | HistoryReplyFrame
  | PresenceReplyFrame
  | RoomsReplyFrame
  | PongFrame
  | RefreshedFrame
  | MemberUpdatedFrame
  | SettingsReplyFrame
  | RoomInfoReplyFrame
  | LeaseFrame
  | LeaseReleasedFrame
  | RemovedFrame
  | ReconnectFrame
  | ErrorFrame;
