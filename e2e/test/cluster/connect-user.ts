/**
 * How a test user connects to a gateway in the cluster: the one place that knows the login and
 * the way the token travels (the dev-mode POST /api/login, then the token in the WebSocket
 * subprotocol, both in ChatClient.login). When authentication changes, only this function changes.
 */
import { ChatClient } from '../support/chat-client.js';

export function connectUser(gatewayUrl: string, user: string): Promise<ChatClient> {
  return ChatClient.login(gatewayUrl, user);
}
