import type { ErrorCode } from './error-codes.js';

/** Frames the gateway sends. Replies echo the request's `rid`. */
export type RequestId = string | number;

/** A chat message as every receiver sees it; `seq` is the room's gapless sequence number. */
export interface ChatMessage {
  room: string;
  seq: number;
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
}
export interface AckFrame {
  type: 'ack';
  rid?: RequestId;
  room: string;
  clientMsgId: string;
  id: string;
  seq: number;
}
export interface MessageFrame extends ChatMessage {
  type: 'message';
}
export interface JoinedFrame {
  type: 'joined';
  rid?: RequestId;
  room: string;
  /** Highest seq stored in the room when the join was served. */
  head: number;
  created: boolean;
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
  rooms: { room: string; head: number }[];
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
  | ErrorFrame;
