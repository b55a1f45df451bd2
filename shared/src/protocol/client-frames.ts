import { z } from 'zod';
import { protocolLimits } from './limits.js';

/** Frames a client sends. Every frame may carry `rid`, echoed in the reply so clients can match them. */
const requestId = z.union([z.string().max(64), z.number().int()]).optional();
export const roomId = z
  .string()
  .regex(protocolLimits.roomIdPattern, 'room must be 1-64 characters of A-Z a-z 0-9 _ -');
/** A room position: the JetStream stream sequence of a message (0 = before the room's first message). */
const position = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const sendFrame = z.strictObject({
  type: z.literal('send'),
  rid: requestId,
  room: roomId,
  clientMsgId: z.string().min(1).max(protocolLimits.clientMsgIdMaxChars),
  text: z.string().min(1, 'text must not be empty').max(protocolLimits.maxTextChars),
  /**
   * This clientMsgId may have been sent before (a retry after a lost ack or a reconnect). The
   * gateway then looks the message up first, so a retry of any age is answered with the original
   * id and position and never stored twice.
   */
  resend: z.boolean().optional(),
});

export const createFrame = z.strictObject({
  type: z.literal('create'),
  rid: requestId,
  room: roomId,
});

export const joinFrame = z.strictObject({
  type: z.literal('join'),
  rid: requestId,
  room: roomId,
  /** Resume: the last position this client has; the gateway sends every message after it first. */
  after: position.optional(),
});

export const leaveFrame = z.strictObject({
  type: z.literal('leave'),
  rid: requestId,
  room: roomId,
});

export const historyFrame = z
  .strictObject({
    type: z.literal('history'),
    rid: requestId,
    room: roomId,
    before: position.optional(),
    after: position.optional(),
    limit: z.number().int().min(1).max(protocolLimits.maxHistoryLimit).optional(),
  })
  .refine((f) => f.before === undefined || f.after === undefined, {
    message: 'give before or after, not both',
  });

export const presenceFrame = z.strictObject({
  type: z.literal('presence'),
  rid: requestId,
  room: roomId,
});

export const roomsFrame = z.strictObject({ type: z.literal('rooms'), rid: requestId });
export const pingFrame = z.strictObject({ type: z.literal('ping'), rid: requestId });
/** A new token for the same user before the current one expires; the socket then lives until its exp. */
export const refreshFrame = z.strictObject({
  type: z.literal('refresh'),
  rid: requestId,
  token: z.string().min(1).max(protocolLimits.maxTokenChars),
});

export const clientFrameSchemas = {
  send: sendFrame,
  create: createFrame,
  join: joinFrame,
  leave: leaveFrame,
  history: historyFrame,
  presence: presenceFrame,
  rooms: roomsFrame,
  ping: pingFrame,
  refresh: refreshFrame,
} as const;

export type ClientFrameType = keyof typeof clientFrameSchemas;
export type SendFrame = z.infer<typeof sendFrame>;
export type CreateFrame = z.infer<typeof createFrame>;
export type JoinFrame = z.infer<typeof joinFrame>;
export type LeaveFrame = z.infer<typeof leaveFrame>;
export type HistoryFrame = z.infer<typeof historyFrame>;
export type PresenceFrame = z.infer<typeof presenceFrame>;
export type RoomsFrame = z.infer<typeof roomsFrame>;
export type PingFrame = z.infer<typeof pingFrame>;
export type RefreshFrame = z.infer<typeof refreshFrame>;
export type ClientFrame =
  | SendFrame
  | CreateFrame
  | JoinFrame
  | LeaveFrame
  | HistoryFrame
  | PresenceFrame
  | RoomsFrame
  | PingFrame
  | RefreshFrame;
