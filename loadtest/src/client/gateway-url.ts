/**
 * A gateway is named by its http(s) base URL (as the operator renders it: http://<name>-gateway:8080).
 * Login goes to <base>/api/login (dev mode) and the socket to ws(s)://<host>/ws, the token in
 * Sec-WebSocket-Protocol.
 */
export interface GatewayEndpoint {
  base: string;
  loginUrl: string;
  wsUrl: string;
}

export function gatewayEndpoint(raw: string): GatewayEndpoint {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error(`gateway "${raw}" is not a URL; use e.g. http://127.0.0.1:8080`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`gateway "${raw}" must be an http:// or https:// base URL (the socket URL is derived from it)`);
  }
  const base = `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
  const wsProtocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return {
    base,
    loginUrl: `${base}/api/login`,
    wsUrl: `${wsProtocol}//${url.host}${url.pathname.replace(/\/+$/, '')}/ws`,
  };
}

/** Accepts repeated flags and comma-separated lists alike. */
export function splitGatewayList(values: string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v.length > 0);
}
