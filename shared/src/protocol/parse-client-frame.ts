import type { ErrorCode } from './error-codes.js';
import { clientFrameSchemas, type ClientFrame, type ClientFrameType } from './client-frames.js';
import type { RequestId } from './server-frames.js';
import { protocolLimits } from './limits.js';

export type ParseResult =
  | { ok: true; frame: ClientFrame }
  | { ok: false; code: ErrorCode; message: string; rid?: RequestId; request?: string };

/**
 * Turns one raw WebSocket text frame into a validated client frame, or says exactly why not.
 * Pure: no I/O, so the gateway's error handling is tested without a socket.
 */
export function parseClientFrame(
  raw: string | Buffer,
  maxBytes: number = protocolLimits.maxFrameBytes,
): ParseResult {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (size > maxBytes) {
    return { ok: false, code: 'frame_too_large', message: `frame is ${size} bytes; the limit is ${maxBytes}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    return { ok: false, code: 'bad_json', message: 'frame is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: 'invalid_frame', message: 'frame must be a JSON object with a "type"' };
  }
  const record = value as Record<string, unknown>;
  const rid = typeof record.rid === 'string' || typeof record.rid === 'number' ? record.rid : undefined;
  const type = record.type;
  if (typeof type !== 'string') {
    return { ok: false, code: 'invalid_frame', message: 'frame has no string "type"', ...(rid !== undefined && { rid }) };
  }
  if (!Object.hasOwn(clientFrameSchemas, type)) {
    return {
      ok: false,
      code: 'unknown_type',
      message: `unknown frame type "${type.slice(0, 32)}"; known: ${Object.keys(clientFrameSchemas).join(', ')}`,
      request: type.slice(0, 32),
      ...(rid !== undefined && { rid }),
    };
  }
  const parsed = clientFrameSchemas[type as ClientFrameType].safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    return {
      ok: false,
      code: 'invalid_frame',
      message: `${type}: ${where}${issue?.message ?? 'invalid'}`,
      request: type,
      ...(rid !== undefined && { rid }),
    };
  }
  return { ok: true, frame: parsed.data as ClientFrame };
}
