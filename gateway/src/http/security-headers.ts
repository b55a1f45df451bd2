import type { OutgoingHttpHeaders } from 'node:http';

/**
 * Headers on every response of the public port. The page has no inline script or style, so the
 * policy allows only the gateway's own files; 'self' in connect-src covers ws(s):// to the same
 * host. No framing (clickjacking), no referrer to other sites, no MIME sniffing.
 */
export const securityHeaders: OutgoingHttpHeaders = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
};
