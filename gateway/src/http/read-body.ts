import type { IncomingMessage } from 'node:http';

/** Why a body was not read: too large, or still arriving at the deadline. */
export class BodyError extends Error {
  constructor(readonly reason: 'too_large' | 'timeout' | 'aborted') {
    super(reason === 'too_large' ? 'body too large' : reason === 'timeout' ? 'body not received in time' : 'body aborted');
  }
}

/**
 * Reads a request body of at most `limit` bytes within `timeoutMs`; a body that trickles in
 * slower than that is cut (the socket is destroyed), so it cannot hold a connection open.
 */
export function readBody(request: IncomingMessage, limit: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (error: BodyError) => {
      clearTimeout(timer);
      reject(error);
      request.destroy();
    };
    const timer = setTimeout(() => fail(new BodyError('timeout')), timeoutMs);
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) fail(new BodyError('too_large'));
      else chunks.push(chunk);
    });
    request.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    request.on('error', () => fail(new BodyError('aborted')));
  });
}
