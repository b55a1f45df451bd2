import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { protocolLimits } from '@chorus/shared/protocol/limits';
import type { DevTokenIssuer } from '../auth/dev-token-issuer.js';
import { securityHeaders } from './security-headers.js';
import type { StaticFile } from './static-files.js';
import { BodyError, readBody } from './read-body.js';

const loginBody = z.strictObject({
  user: z.string().regex(protocolLimits.userNamePattern, 'user must be 1-32 characters of A-Z a-z 0-9 _ . -'),
});

export interface HttpRouteDeps {
  /** Present only in dev mode: then, and only then, POST /api/login exists. */
  devIssuer: DevTokenIssuer | undefined;
  staticFiles: Map<string, StaticFile>;
  ready: () => boolean;
  gatewayId: string;
  /** Largest body and longest body read of a request (see limits/http-limits.ts). */
  body: { maxBytes: number; timeoutMs: number };
}

/**
 * The gateway's public HTTP side: the chat page, dev login, the auth mode, health. /metrics and
 * admin requests are on the internal port (internal-routes.ts); WebSocket upgrades go elsewhere.
 */
export function createHttpHandler(deps: HttpRouteDeps) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?', 1)[0] ?? '/';
    for (const [name, value] of Object.entries(securityHeaders)) response.setHeader(name, value!);
    try {
      if (path === '/api/login') {
        if (!deps.devIssuer) return json(response, 404, error('dev_login_disabled', 'name-only login exists only in dev mode (AUTH_MODE=dev); present a token from your identity provider'));
        if (request.method !== 'POST') return json(response, 405, error('method_not_allowed', 'use POST'));
        return await login(request, response, deps.devIssuer, deps.body);
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') return json(response, 405, error('method_not_allowed', `${request.method} is not supported here`));
      // Tells the page whether to offer the name-only dev login.
      if (path === '/api/auth') return json(response, 200, deps.devIssuer ? { mode: 'dev', tokenTtlSeconds: deps.devIssuer.ttlSeconds } : { mode: 'jwt' });
      if (path === '/healthz') return json(response, 200, { status: 'ok' });
      if (path === '/readyz') {
        const ready = deps.ready();
        return json(response, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', gateway: deps.gatewayId });
      }
      const file = deps.staticFiles.get(path);
      if (file) {
        response.writeHead(200, { 'content-type': file.contentType, 'cache-control': 'no-cache' });
        return void response.end(request.method === 'HEAD' ? undefined : file.body);
      }
      json(response, 404, error('not_found', `no such path: ${path}`));
    } catch {
      if (!response.headersSent) json(response, 500, error('internal', 'internal error'));
      else response.destroy();
    }
  };
}

async function login(request: IncomingMessage, response: ServerResponse, tokens: DevTokenIssuer, limits: HttpRouteDeps['body']): Promise<void> {
  let body: unknown;
  try {
    body = JSON.parse(await readBody(request, limits.maxBytes, limits.timeoutMs));
  } catch (reason) {
    // A body too large or too slow: readBody already cut the connection, nothing can be answered.
    if (reason instanceof BodyError) return;
    return json(response, 400, error('bad_json', 'body must be JSON like {"user":"alice"}'));
  }
  const parsed = loginBody.safeParse(body);
  if (!parsed.success) return json(response, 400, error('invalid_request', parsed.error.issues[0]?.message ?? 'invalid'));
  const token = await tokens.issue(parsed.data.user);
  json(response, 200, { token, user: parsed.data.user, expiresIn: tokens.ttlSeconds, mode: 'dev' });
}

export const error = (code: string, message: string) => ({ error: { code, message } });

export function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
