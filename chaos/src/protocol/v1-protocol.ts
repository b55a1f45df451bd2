import { z } from 'zod';
import type { EventOf, WireProtocol } from './wire-protocol.js';
import { position, rid, serverFrameParser } from './server-frame-parser.js';


/**
 * Protocol v1 (docs/protocol.md before the v2 rewrite): per-room `seq` is consecutive, so a
 * message's position is its seq and the previous position is seq - 1; join resumes with
 * `afterSeq`; there is no `resend` flag (a retry is simply the same clientMsgId again).
 */
const parse = serverFrameParser({
  ack: z
    .object({ type: z.literal('ack'), rid, room: z.string(), clientMsgId: z.string(), id: z.string(), seq: position.min(1) })
    .transform((f): EventOf<'ack'> => ({ kind: 'ack', rid: f.rid, room: f.room, clientMsgId: f.clientMsgId, id: f.id, pos: f.seq })),
  message: z
    .object({ type: z.literal('message'), room: z.string(), seq: position.min(1), id: z.string(), sender: z.string() })
    .transform((f): EventOf<'message'> => ({ kind: 'message', room: f.room, pos: f.seq, prev: f.seq - 1, id: f.id, sender: f.sender })),
});

export const v1Protocol: WireProtocol = {
  name: 'v1',
  send: ({ rid, room, clientMsgId, text }) => JSON.stringify({ type: 'send', rid, room, clientMsgId, text }),
  join: ({ rid, room, after }) => JSON.stringify({ type: 'join', rid, room, ...(after !== undefined && { afterSeq: after }) }),
  create: ({ rid, room }) => JSON.stringify({ type: 'create', rid, room }),
  parse,
  rejoinCodes: [],
};
