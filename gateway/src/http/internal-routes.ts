import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { revocationRequest, type RevocationList } from '../auth/revocation-list.js';
import { error, json } from './http-routes.js';
import { readBody } from './read-body.js';

export interface InternalRouteDeps {
  metrics: Registry;
  ready: () => boolean;
  gatewayId: string;
  revocations: Pick<RevocationList, 'revoke'>;
  /** Bearer secret for POST /admin/revoke; without it the admin endpoint does not exist. */
  adminToken: string | undefined;
}

/**
 * The internal port (METRICS_PORT): Prometheus /metrics, health, and the admin revocation
 * endpoint. It is not behind the public Service or Ingress.
 */
export function createInternalHandler(deps: InternalRouteDeps) {
  const adminDigest = deps.adminToken ? digest(deps.adminToken) : undefined;
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?', 1)[0] ?? '/';
    try {
      if (path === '/admin/revoke') {
        if (!adminDigest) return json(response, 404, error('not_found', 'no admin endpoint: ADMIN_TOKEN is not set'));
        if (request.method !== 'POST') return json(response, 405, error('method_not_allowed', 'use POST'));
        const presented = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
        // Compare digests: equal lengths, and the time taken says nothing about the secret.
        if (!presented || !timingSafeEqual(digest(presented), adminDigest)) return json(response, 401, error('unauthorized', 'Authorization: Bearer <ADMIN_TOKEN> required'));
        let body: unknown;
        try {
          body = JSON.parse(await readBody(request, 1024, 10_000));
        } catch {
          return json(response, 400, error('bad_json', 'body must be JSON like {"user":"alice"} or {"jti":"..."}'));
        }
        const parsed = revocationRequest.safeParse(body);
        if (!parsed.success) return json(response, 400, error('invalid_request', 'body must be {"user":"<name>"} or {"jti":"<token id>"}'));
        await deps.revocations.revoke(parsed.data);
        return json(response, 200, { revoked: parsed.data });
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') return json(response, 405, error('method_not_allowed', `${request.method} is not supported here`));
      if (path === '/metrics') {
        response.writeHead(200, { 'content-type': deps.metrics.contentType });
        return void response.end(await deps.metrics.metrics());
      }
      if (path === '/healthz') return json(response, 200, { status: 'ok' });
      if (path === '/readyz') {
        const ready = deps.ready();
        return json(response, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', gateway: deps.gatewayId });
      }
      json(response, 404, error('not_found', `no such path: ${path}`));
    } catch {
      if (!response.headersSent) json(response, 500, error('internal', 'internal error'));
      else response.destroy();
    }
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
