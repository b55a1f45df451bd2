/**
 * How a client hands its token to the gateway without putting it in the URL (where proxies and
 * ingress controllers log it): in `Sec-WebSocket-Protocol`, offering the protocol version and
 * the token as a second "protocol". The gateway selects only the version, so the token is never
 * echoed back. JWTs consist of base64url and '.', which are valid subprotocol characters.
 */
export const protocolVersion = 'chorus.v2';
export const bearerPrefix = 'chorus.bearer.';

/** The subprotocols a client offers: `new WebSocket(url, clientSubprotocols(token))`. */
export function clientSubprotocols(token: string): string[] {
  return [protocolVersion, `${bearerPrefix}${token}`];
}
