/**
 * Which browser pages may open a WebSocket. Browsers always send `Origin` on a WebSocket
 * handshake and a page cannot forge it; clients without one (load testers, servers) are not
 * browsers and are allowed, since their token alone decides. With no allowlist, only the page's
 * own host (the gateway serving it, Origin host = Host header) is allowed.
 */
export class OriginPolicy {
  private readonly allowed: Set<string>;

  constructor(allowedOrigins: readonly string[]) {
    this.allowed = new Set(allowedOrigins.map(normalizeOrigin));
  }

  allows(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined) return true;
    let normalized: string;
    try {
      normalized = normalizeOrigin(origin);
    } catch {
      return false; // includes "null" (sandboxed frames, file:// pages)
    }
    if (this.allowed.size > 0) return this.allowed.has(normalized);
    return host !== undefined && new URL(normalized).host === host.toLowerCase();
  }
}

/** scheme://host[:port], lower case, default ports dropped; throws on anything else. */
export function normalizeOrigin(origin: string): string {
  const url = new URL(origin);
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search || url.hash || url.username) {
    throw new Error(`not an origin: ${origin}`);
  }
  return url.origin;
}
