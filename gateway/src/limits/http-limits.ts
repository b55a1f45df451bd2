import type { IncomingMessage, ServerOptions, ServerResponse } from 'node:http';

export interface HttpLimits {
  /** Time a client has to send the request line and headers (node's headersTimeout). */
  headersTimeoutMs: number;
  /** Time a client has to send the whole request, body included (node's requestTimeout). */
  requestTimeoutMs: number;
  /** Time a handler waits for a body it reads; a body still arriving then is cut. */
  bodyTimeoutMs: number;
  /** Largest request body (bytes): a larger Content-Length is refused with 413, a larger stream cut. */
  maxBodyBytes: number;
}

export const defaultHttpLimits: HttpLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 20_000,
  bodyTimeoutMs: 10_000,
  maxBodyBytes: 8 * 1024,
};

/**
 * node:http options that cut slow clients. Node checks both timeouts every
 * connectionsCheckingInterval (30 s by default), far coarser than the limits: check 4x as often
 * as the shortest one.
 */
export function httpServerOptions(limits: HttpLimits): ServerOptions {
  // node refuses the pair at start otherwise; say which settings are wrong.
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new Error(`HTTP_HEADERS_TIMEOUT_MS (${limits.headersTimeoutMs}) may not exceed HTTP_REQUEST_TIMEOUT_MS (${limits.requestTimeoutMs})`);
  }
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)),
  };
}

/** Wraps a handler: a declared body over the limit gets 413 before the handler runs. */
export function limitBodies(
  limits: HttpLimits,
  handler: (request: IncomingMessage, response: ServerResponse) => unknown,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (Number.isFinite(declared) && declared > limits.maxBodyBytes) {
      response.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      response.end(JSON.stringify({ error: { code: 'body_too_large', message: `request bodies are limited to ${limits.maxBodyBytes} bytes` } }));
      request.destroy();
      return;
    }
    void handler(request, response);
  };
}
