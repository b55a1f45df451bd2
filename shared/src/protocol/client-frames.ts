import { z } from 'zod';
import { protocolLimits } from './limits.js';
import { fencingToken, historyVisibility, leaseTarget, roomSettingsPatch, roomVisibility, userName } from './room-rules.js';

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
  /** Default public: anyone may join. A private room is joined by invite (or being added). */
  visibility: roomVisibility.optional(),
  history: historyVisibility.optional(),
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

/**
 * An admin's change to one member, written under the edit lease of `member:<user>` whose fencing
 * token it carries.
 */
function memberFrame<T extends string>(type: T) {
  return z.strictObject({ type: z.literal(type), rid: requestId, room: roomId, user: userName, fence: fencingToken });
}
export const inviteFrame = memberFrame('invite');
export const addFrame = memberFrame('add');
export const removeFrame = memberFrame('remove');
export const banFrame = memberFrame('ban');
export const unbanFrame = memberFrame('unban');
export const promoteFrame = memberFrame('promote');
export const demoteFrame = memberFrame('demote');
export const transferFrame = memberFrame('transfer');
export const memberFrameTypes = ['invite', 'add', 'remove', 'ban', 'unban', 'promote', 'demote', 'transfer'] as const;
export type MemberFrameType = (typeof memberFrameTypes)[number];

/** Room settings, written under the `settings` edit lease. */
export const settingsFrame = z.strictObject({
  type: z.literal('settings'),
  rid: requestId,
  room: roomId,
  fence: fencingToken,
  settings: roomSettingsPatch,
});

/** Settings, members with roles, invites, bans and held edit leases of a room (members only). */
export const roomInfoFrame = z.strictObject({ type: z.literal('room_info'), rid: requestId, room: roomId });

export const leaseAcquireFrame = z.strictObject({ type: z.literal('lease_acquire'), rid: requestId, room: roomId, target: leaseTarget });
export const leaseRenewFrame = z.strictObject({
  type: z.literal('lease_renew'),
  rid: requestId,
  room: roomId,
  target: leaseTarget,
  fence: fencingToken,
});
export const leaseReleaseFrame = z.strictObject({
  type: z.literal('lease_release'),
  rid: requestId,
  room: roomId,
  target: leaseTarget,
  fence: fencingToken,
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
  invite: inviteFrame,
  add: addFrame,
  remove: removeFrame,
  ban: banFrame,
  unban: unbanFrame,
  promote: promoteFrame,
  demote: demoteFrame,
  transfer: transferFrame,
  settings: settingsFrame,
  room_info: roomInfoFrame,
  lease_acquire: leaseAcquireFrame,
  lease_renew: leaseRenewFrame,
  lease_release: leaseReleaseFrame,
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
export type MemberFrame = z.infer<(typeof clientFrameSchemas)[MemberFrameType]>;
export type SettingsFrame = z.infer<typeof settingsFrame>;
export type RoomInfoFrame = z.infer<typeof roomInfoFrame>;
export type LeaseAcquireFrame = z.infer<typeof leaseAcquireFrame>;
export type LeaseRenewFrame = z.infer<typeof leaseRenewFrame>;
export type LeaseReleaseFrame = z.infer<typeof leaseReleaseFrame>;
export type ClientFrame =
  | SendFrame
  | CreateFrame
  | JoinFrame
  | LeaveFrame
  | HistoryFrame
  | PresenceFrame
  | RoomsFrame
  | PingFrame
  | RefreshFrame
  | MemberFrame
  | SettingsFrame
  | RoomInfoFrame
  | LeaseAcquireFrame
  | LeaseRenewFrame
  | LeaseReleaseFrame;
