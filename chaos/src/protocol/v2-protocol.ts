import { z } from 'zod';
import type { EventOf, WireProtocol } from './wire-protocol.js';
import { position, rid, serverFrameParser } from './server-frame-parser.js';


/**
 * Protocol v2: `pos` strictly increases per room but is not consecutive; each message carries
 * `prev` (no message of the room lies between prev and pos), so a client holding L checks
 * prev == L. Join resumes with `after`; a retry carries `resend: true`; the error
 * `catchup_failed` {room, after} means "join again with after".
 */
const parse = serverFrameParser({
  ack: z
    .object({
      type: z.literal('ack'),
      rid,
      room: z.string(),
      clientMsgId: z.string(),
      id: z.string(),
      pos: position.min(1),
      duplicate: z.boolean().optional(),
    })
    .transform((f): EventOf<'ack'> => ({ kind: 'ack', rid: f.rid, room: f.room, clientMsgId: f.clientMsgId, id: f.id, pos: f.pos })),
  message: z
    .object({ type: z.literal('message'), room: z.string(), pos: position.min(1), prev: position, id: z.string(), sender: z.string() })
    .refine((f) => f.prev < f.pos, { message: 'prev must be below pos', path: ['prev'] })
    .transform((f): EventOf<'message'> => ({ kind: 'message', room: f.room, pos: f.pos, prev: f.prev, id: f.id, sender: f.sender })),
});

export const v2Protocol: WireProtocol = {
  name: 'v2',
  send: ({ rid, room, clientMsgId, text, resend }) =>
    JSON.stringify({ type: 'send', rid, room, clientMsgId, text, ...(resend && { resend: true }) }),
  join: ({ rid, room, after }) => JSON.stringify({ type: 'join', rid, room, ...(after !== undefined && { after }) }),
  create: ({ rid, room }) => JSON.stringify({ type: 'create', rid, room }),
  parse,
  rejoinCodes: ['catchup_failed'],
};
