import { z } from 'zod';
import { roomId } from '../protocol/client-frames.js';
import { protocolLimits } from '../protocol/limits.js';

/**
 * Schemas of everything that crosses NATS between services. Each receiver validates what it gets,
 * so one bad payload is rejected and logged instead of crashing a worker.
 */
const userName = z.string().regex(protocolLimits.userNamePattern);
const seq = z.number().int().min(1);

/** What the gateway stores in JetStream (subject chorus.in.<room>, header Nats-Msg-Id = id). */
export const queuedMessage = z.strictObject({
  id: z.string().min(1).max(64),
  room: roomId,
  seq,
  sender: userName,
  text: z.string().min(1).max(protocolLimits.maxTextChars),
  ts: z.number().int().positive(),
  clientMsgId: z.string().min(1).max(protocolLimits.clientMsgIdMaxChars),
});
export type QueuedMessage = z.infer<typeof queuedMessage>;

/** One room's messages from one batch, published on chorus.out.<room> after the database write. */
export const fanoutBatch = z.strictObject({
  room: roomId,
  messages: z
    .array(
      z.strictObject({
        id: z.string(),
        room: roomId,
        seq,
        sender: userName,
        text: z.string(),
        ts: z.number().int(),
        /** W3C traceparent of the message's fan-out span, so deliveries join the message's trace. */
        traceparent: z.string().optional(),
      }),
    )
    .min(1),
});
export type FanoutBatch = z.infer<typeof fanoutBatch>;

export const historyRequest = z.strictObject({
  room: roomId,
  before: z.number().int().min(0).optional(),
  after: z.number().int().min(0).optional(),
  limit: z.number().int().min(1).max(1000),
});
export type HistoryRequest = z.infer<typeof historyRequest>;

export const roomsRequest = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('create'), room: roomId, user: userName }),
  z.strictObject({ op: z.literal('join'), room: roomId, user: userName }),
  z.strictObject({ op: z.literal('leave'), room: roomId, user: userName }),
  /** Members of a room (the gateway's cache fills from this on a miss). */
  z.strictObject({ op: z.literal('members'), room: roomId }),
  /** Rooms the user belongs to, each with its stored head seq. */
  z.strictObject({ op: z.literal('list'), user: userName }),
  /** Highest stored seq of a room (0 when empty). */
  z.strictObject({ op: z.literal('head'), room: roomId }),
]);
export type RoomsRequest = z.infer<typeof roomsRequest>;

/** Every RPC reply: a result or an error with a protocol error code. */
export type RpcReply<T> = { ok: true; result: T } | { ok: false; code: string; message: string };

export interface RoomsResults {
  create: { room: string; head: number; created: boolean };
  join: { room: string; head: number; created: false };
  leave: { room: string };
  members: { room: string; members: string[] };
  list: { rooms: { room: string; head: number }[] };
  head: { room: string; head: number };
}
export interface HistoryResult {
  messages: { room: string; seq: number; id: string; sender: string; text: string; ts: number }[];
  hasMore: boolean;
}
