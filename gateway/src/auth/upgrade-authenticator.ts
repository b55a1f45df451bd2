import type { IncomingMessage } from 'node:http';
import { bearerPrefix, protocolVersion } from '@chorus/shared/protocol/auth-subprotocol';
import type { OriginPolicy } from './origin-policy.js';
import type { RevocationList } from './revocation-list.js';
import type { TokenVerifier, VerifiedToken } from './verified-token.js';

export type UpgradeDecision =
  | { ok: true; token: VerifiedToken }
  | { ok: false; status: 400 | 401 | 403 | 404 | 503; code: string; message: string };

/**
 * Decides a WebSocket upgrade before it happens: path, no token in the URL, Origin, the token in
 * `Sec-WebSocket-Protocol`, its signature and claims, revocation. Refusals name the reason but
 * never echo the token.
 */
export class UpgradeAuthenticator {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly origins: OriginPolicy,
    private readonly revocations: Pick<RevocationList, 'isRevoked'>,
  ) {}

  async decide(request: IncomingMessage): Promise<UpgradeDecision> {
    let url: URL;
    try {
      // A fixed base: the Host header is the client's to choose and must not be parsed as a URL.
      url = new URL(request.url ?? '/', 'http://gateway');
    } catch {
      return refuse(400, 'bad_request', 'the request target is not a valid path');
    }
    if (url.pathname !== '/ws') return refuse(404, 'not_found', `no WebSocket endpoint at ${url.pathname}`);
    if (url.searchParams.has('token') || url.searchParams.has('access_token')) {
      return refuse(400, 'token_in_url', `tokens in the URL end up in logs and are refused: offer the subprotocols ${protocolVersion} and ${bearerPrefix}<token>`);
    }
    if (!this.origins.allows(request.headers.origin, request.headers.host)) {
      return refuse(403, 'origin_not_allowed', 'this page origin may not open a socket here');
    }
    const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!offered.includes(protocolVersion)) return refuse(400, 'protocol_required', `offer the subprotocol ${protocolVersion}`);
    const bearer = offered.find((p) => p.startsWith(bearerPrefix));
    if (!bearer) return refuse(401, 'token_required', `offer the subprotocol ${bearerPrefix}<token>`);
    const verified = await this.verifier.verify(bearer.slice(bearerPrefix.length));
    if (!verified.ok) return refuse(401, 'invalid_token', verified.reason);
    try {
      if (await this.revocations.isRevoked(verified.token)) return refuse(401, 'token_revoked', 'this token was revoked');
    } catch {
      // Fail closed: a revoked token must not slip in while the list is unreachable.
      return refuse(503, 'unavailable', 'the revocation list is unreachable; try again');
    }
    return verified;
  }
}

function refuse(status: 400 | 401 | 403 | 404 | 503, code: string, message: string): UpgradeDecision {
  return { ok: false, status, code, message };
}
