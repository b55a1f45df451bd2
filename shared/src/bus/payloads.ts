import { z } from 'zod';
import { roomId } from '../protocol/client-frames.js';
import { protocolLimits } from '../protocol/limits.js';
import type { ChatMessage } from '../protocol/server-frames.js';

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
  })
  .refine((r) => r.before === undefined || r.after === undefined, { message: 'give before or after, not both' });
export type HistoryRequest = z.infer<typeof historyRequest>;

export const lookupRequest = z.strictObject({ room: roomId, id: z.string().min(1).max(64) });
export type LookupRequest = z.infer<typeof lookupRequest>;

export const roomsRequest = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('create'), room: roomId, user: userName }),
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

/** Every RPC reply: a result or an error with a protocol error code. */
export type RpcReply<T> = { ok: true; result: T } | { ok: false; code: string; message: string; limit?: string; retryAfterMs?: number };

export interface RoomsResults {
  create: { room: string; head: number; created: boolean };
  join: { room: string; head: number; created: false };
  leave: { room: string };
  members: { room: string; members: string[] };
  list: { rooms: { room: string; head: number }[] };
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
