import WebSocket from 'ws';
import { clientSubprotocols } from '@chorus/shared/protocol/auth-subprotocol';
import type { GatewayEndpoint } from '../client/gateway-url.js';

/** The socket was closed before the gateway's welcome (e.g. 4429: too many sockets for the user). */
export class RefusedSocket extends Error {
  constructor(readonly code: number) {
    super(`socket closed before welcome with ${code}`);
  }
}

/** Opens an authenticated socket and resolves once the gateway's `welcome` frame arrived. */
export function openSocket(endpoint: GatewayEndpoint, token: string, timeoutMs = 10_000): Promise<WebSocket> {
  const ws = new WebSocket(endpoint.wsUrl, clientSubprotocols(token), { perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no welcome in time'));
    }, timeoutMs);
    const onMessage = (data: WebSocket.RawData) => {
      if (!String(data).startsWith('{"type":"welcome"')) return;
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      resolve(ws);
    };
    const onClose = (code: number) => {
      clearTimeout(timer);
      reject(new RefusedSocket(code));
    };
    ws.on('message', onMessage);
    ws.once('close', onClose);
    ws.on('error', () => {}); // the close that follows says what happened
  });
}
