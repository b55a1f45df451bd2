import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Registry } from 'prom-client';
import { protocolLimits } from '@chorus/shared/protocol/limits';
import type { TokenIssuer } from '../auth/tokens.js';
import type { StaticFile } from './static-files.js';
import { BodyError, readBody } from './read-body.js';

const loginBody = z.strictObject({
  user: z.string().regex(protocolLimits.userNamePattern, 'user must be 1-32 characters of A-Z a-z 0-9 _ . -'),
});

export interface HttpRouteDeps {
  tokens: TokenIssuer;
  staticFiles: Map<string, StaticFile>;
  ready: () => boolean;
  gatewayId: string;
  metrics: Registry;
  /** Largest body and longest body read of a request (see limits/http-limits.ts). */
  body: { maxBytes: number; timeoutMs: number };
}

/** The gateway's plain HTTP side: the chat page, login, health. WebSocket upgrades go elsewhere. */
export function createHttpHandler(deps: HttpRouteDeps) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?', 1)[0] ?? '/';
    try {
      if (request.method === 'POST' && path === '/api/login') return await login(request, response, deps);
      if (request.method !== 'GET' && request.method !== 'HEAD') return json(response, 405, error('method_not_allowed', `${request.method} is not supported here`));
      if (path === '/healthz') return json(response, 200, { status: 'ok' });
      if (path === '/metrics') {
        response.writeHead(200, { 'content-type': deps.metrics.contentType });
        return void response.end(await deps.metrics.metrics());
      }
      if (path === '/readyz') {
        const ready = deps.ready();
        return json(response, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', gateway: deps.gatewayId });
      }
      const file = deps.staticFiles.get(path);
      if (file) {
        response.writeHead(200, { 'content-type': file.contentType, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
        return void response.end(request.method === 'HEAD' ? undefined : file.body);
      }
      json(response, 404, error('not_found', `no such path: ${path}`));
    } catch {
      if (!response.headersSent) json(response, 500, error('internal', 'internal error'));
      else response.destroy();
    }
  };
}

async function login(request: IncomingMessage, response: ServerResponse, deps: HttpRouteDeps): Promise<void> {
  const { tokens } = deps;
  let body: unknown;
  try {
    body = JSON.parse(await readBody(request, deps.body.maxBytes, deps.body.timeoutMs));
  } catch (reason) {
    // A body too large or too slow: readBody already cut the connection, nothing can be answered.
    if (reason instanceof BodyError) return;
    return json(response, 400, error('bad_json', 'body must be JSON like {"user":"alice"}'));
  }
  const parsed = loginBody.safeParse(body);
  if (!parsed.success) return json(response, 400, error('invalid_request', parsed.error.issues[0]?.message ?? 'invalid'));
  const token = await tokens.issue(parsed.data.user);
  json(response, 200, { token, user: parsed.data.user });
}

const error = (code: string, message: string) => ({ error: { code, message } });

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
