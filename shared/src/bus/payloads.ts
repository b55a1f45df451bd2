import { z } from 'zod';
import { roomId } from '../protocol/client-frames.js';
import { protocolLimits } from '../protocol/limits.js';
import type { ChatMessage, LeaseView, RoomInfoView } from '../protocol/server-frames.js';
import {
  fencingToken,
  historyVisibility,
  leaseTarget,
  roomSettingsPatch,
  roomVisibility,
  type RoomRole,
  type RoomSettings,
  type RoomVisibility,
} from '../protocol/room-rules.js';

/**
 * Schemas of everything that crosses NATS between services. Each receiver validates what it gets,
 * so one bad payload is rejected and logged instead of crashing a worker.
 */
const userName = z.string().regex(protocolLimits.userNamePattern);
const position = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * The one message schema: what the gateway stores in JetStream on chorus.in.<room> (header
 * Nats-Msg-Id = id). Its position is not in the payload: it is the stream sequence JetStream gives it.
 */
export const storedMessage = z.strictObject({
  id: z.string().min(1).max(64),
  room: roomId,
  sender: userName,
  text: z.string().min(1).max(protocolLimits.maxTextChars),
  ts: z.number().int().positive(),
  clientMsgId: z.string().min(1).max(protocolLimits.clientMsgIdMaxChars),
});
export type StoredMessage = z.infer<typeof storedMessage>;

/** A stored message at its position: what readers of the stream and of MongoDB both produce. */
export interface PositionedMessage {
  pos: number;
  message: StoredMessage;
}

/** The wire form of a run of a room's messages, `prev` chained from `after` (nothing lies between). */
export function chainFrom(after: number, run: readonly PositionedMessage[]): ChatMessage[] {
  let prev = after;
  return run.map(({ pos, message }) => {
    const chat: ChatMessage = { room: message.room, pos, prev, id: message.id, sender: message.sender, text: message.text, ts: message.ts };
    prev = pos;
    return chat;
  });
}

export const historyRequest = z
  .strictObject({
    room: roomId,
    before: position.optional(),
    after: position.optional(),
    limit: z.number().int().min(1).max(1000),
    /**
     * The reader: the message-service checks that the user is a member and cuts what the room's
     * history rule hides from them. Absent only in the gateway's own catch-up reads, whose `after`
     * the gateway has already clamped to the member's `readFrom` (from the join).
     */
    user: userName.optional(),
  })
  .refine((r) => r.before === undefined || r.after === undefined, { message: 'give before or after, not both' });
export type HistoryRequest = z.infer<typeof historyRequest>;

export const lookupRequest = z.strictObject({ room: roomId, id: z.string().min(1).max(64) });
export type LookupRequest = z.infer<typeof lookupRequest>;

export const roomsRequest = z.discriminatedUnion('op', [
  z.strictObject({
    op: z.literal('create'),
    room: roomId,
    user: userName,
    visibility: roomVisibility.optional(),
    history: historyVisibility.optional(),
  }),
  z.strictObject({ op: z.literal('join'), room: roomId, user: userName }),
  z.strictObject({ op: z.literal('leave'), room: roomId, user: userName }),
  /** Members of a room (the gateway's cache fills from this on a miss). */
  z.strictObject({ op: z.literal('members'), room: roomId }),
  /** Rooms the user belongs to, each with its head position. */
  z.strictObject({ op: z.literal('list'), user: userName }),
  /** Position of the room's newest message (0 when it has none). */
  z.strictObject({ op: z.literal('head'), room: roomId }),
]);
export type RoomsRequest = z.infer<typeof roomsRequest>;

/** The connection an admin request comes from: edit leases belong to one session, not to a user. */
const sessionId = z.string().min(1).max(128);
export const memberOps = ['invite', 'add', 'remove', 'ban', 'unban', 'promote', 'demote', 'transfer'] as const;
export type MemberOp = (typeof memberOps)[number];

/**
 * `chorus.rpc.roomAdmin`: the roles and edit-lease operations. `actor` and `session` are set by the
 * gateway from the authenticated connection, never taken from a client frame.
 */
const memberRequest = <O extends MemberOp>(op: O) =>
  z.strictObject({ op: z.literal(op), room: roomId, actor: userName, session: sessionId, fence: fencingToken, user: userName });
export const roomAdminRequest = z.discriminatedUnion('op', [
  memberRequest('invite'),
  memberRequest('add'),
  memberRequest('remove'),
  memberRequest('ban'),
  memberRequest('unban'),
  memberRequest('promote'),
  memberRequest('demote'),
  memberRequest('transfer'),
  z.strictObject({ op: z.literal('settings'), room: roomId, actor: userName, session: sessionId, fence: fencingToken, settings: roomSettingsPatch }),
  z.strictObject({ op: z.literal('info'), room: roomId, actor: userName }),
  z.strictObject({ op: z.literal('lease_acquire'), room: roomId, actor: userName, session: sessionId, target: leaseTarget }),
  z.strictObject({ op: z.literal('lease_renew'), room: roomId, actor: userName, session: sessionId, target: leaseTarget, fence: fencingToken }),
  z.strictObject({ op: z.literal('lease_release'), room: roomId, actor: userName, session: sessionId, target: leaseTarget, fence: fencingToken }),
  /** A connection closed: its leases end now rather than at expiry. */
  z.strictObject({ op: z.literal('release_session'), session: sessionId }),
]);
export type RoomAdminRequest = z.infer<typeof roomAdminRequest>;
export type MemberOpRequest = Extract<RoomAdminRequest, { op: MemberOp }>;

/** Where a user stands in a room after a member operation. */
export type MemberState = 'member' | 'invited' | 'banned' | 'none';
export interface MemberChange {
  room: string;
  user: string;
  state: MemberState;
  /** Set when state is `member`. */
  role?: RoomRole;
}
/** `expiresAt` is ms since the epoch, by the message-service's clock. */
export interface EditLease extends LeaseView {
  room: string;
}
export interface RoomInfo extends RoomInfoView {
  leases: EditLease[];
}
export interface RoomAdminResults {
  member: MemberChange;
  settings: { room: string; settings: RoomSettings };
  info: RoomInfo;
  lease: EditLease;
  released: { room: string; target: string };
  sessionReleased: { released: number };
}

/**
 * Published on chorus.membership.<room> when a user's membership changes (an empty payload, from
 * older replicas, only says "something changed"). On `removed` and `banned` every gateway ends
 * that user's live delivery of the room.
 */
export const membershipChange = z.strictObject({
  user: userName,
  change: z.enum(['joined', 'left', 'removed', 'banned', 'role']),
});
export type MembershipChange = z.infer<typeof membershipChange>;

/** Fields an error reply may add to its code: `holder` with `lease_held`; `limit`, `retryAfterMs` with `limit_exceeded` and `rate_limited`. */
export interface RpcErrorDetails {
  holder?: string;
  limit?: string;
  retryAfterMs?: number;
}

/** Every RPC reply: a result or an error with a protocol error code. */
export type RpcReply<T> = { ok: true; result: T } | ({ ok: false; code: string; message: string } & RpcErrorDetails);

export interface RoomsResults {
  create: { room: string; head: number; created: boolean };
  /** `readFrom`: the member reads messages after this position only (0: all; the join position in a `since_join` room). */
  join: { room: string; head: number; created: false; readFrom: number };
  leave: { room: string };
  members: { room: string; members: string[] };
  list: { rooms: { room: string; head: number; visibility: RoomVisibility; role: RoomRole }[]; invites: string[] };
  head: { room: string; head: number };
}
export interface HistoryResult {
  messages: ChatMessage[];
  hasMore: boolean;
}
/** `pos` of the stored message with that id, or null: it was never stored (safe to publish). */
export interface LookupResult {
  pos: number | null;
}
