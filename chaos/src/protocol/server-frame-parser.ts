import { z } from 'zod';
import type { EventOf, ServerEvent } from './wire-protocol.js';

/** Pieces shared by the server-frame schemas of every protocol version. */
export const rid = z
  .union([z.string(), z.number()])
  .optional()
  .transform((r) => (r === undefined ? undefined : String(r)));
export const position = z.number().int().min(0);


/** Frames whose shape is the same in every version. */
const commonSchemas = {
  welcome: z
    .object({ type: z.literal('welcome'), user: z.string(), gateway: z.string() })
    .transform((f): EventOf<'welcome'> => ({ kind: 'welcome', user: f.user, gateway: f.gateway })),
  joined: z
    .object({ type: z.literal('joined'), rid, room: z.string(), head: position })
    .transform((f): EventOf<'joined'> => ({ kind: 'joined', rid: f.rid, room: f.room, head: f.head })),
  reconnect: z
    .object({ type: z.literal('reconnect'), afterMs: z.number().int().min(0), reason: z.string() })
    .transform((f): EventOf<'reconnect'> => ({ kind: 'reconnect', afterMs: f.afterMs })),
  error: z
    .object({ type: z.literal('error'), rid, code: z.string(), message: z.string(), room: z.string().optional() })
    .transform((f): EventOf<'error'> => ({ kind: 'error', rid: f.rid, code: f.code, message: f.message, room: f.room })),
};

/** The frames that differ between versions: each schema validates the frame and maps it to its event. */
export interface VersionedSchemas {
  ack: z.ZodType<EventOf<'ack'>>;
  message: z.ZodType<EventOf<'message'>>;
}

/**
 * A parser for one protocol version: JSON, then the schema of the frame's `type`. Everything from
 * the gateway is validated; what does not fit becomes an `invalid` event naming the field.
 */
export function serverFrameParser(versioned: VersionedSchemas): (text: string) => ServerEvent {
  const schemas: Record<string, z.ZodType<ServerEvent>> = { ...commonSchemas, ...versioned };
  return (text) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return { kind: 'invalid', reason: `not JSON: ${(error as Error).message}` };
    }
    const type = typeof value === 'object' && value !== null && 'type' in value ? (value as { type: unknown }).type : undefined;
    if (typeof type !== 'string') return { kind: 'invalid', reason: 'a frame without a string `type`' };
    const schema = schemas[type];
    if (!schema) return { kind: 'other', type };
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    const issue = result.error.issues[0];
    return { kind: 'invalid', reason: `${type}: ${issue ? `${issue.path.join('.') || '(frame)'}: ${issue.message}` : 'invalid'}` };
  };
}
