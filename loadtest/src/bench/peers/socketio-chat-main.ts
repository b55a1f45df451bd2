import { exitGracefullyOnSignals, exitOnStartFailure } from '@chorus/shared/lifecycle/graceful-shutdown';
import { createLogger } from '@chorus/shared/logging/logger';
import { startSocketIoChatServer } from './socketio-chat-server.js';

/**
 * The Socket.IO peer as its own process (the bench measures its CPU apart from the load tester's).
 * Env: PORT, REDIS_URL, TOKEN_SECRET. Ready when the port accepts connections; stops on
 * SIGTERM/SIGINT, or when its parent goes away (CHORUS_EXIT_WITH_PARENT).
 */
const log = createLogger('socketio-chat');
try {
  const port = Number(process.env.PORT);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`PORT must be a port number, not "${process.env.PORT}"`);
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl?.startsWith('redis://')) throw new Error('REDIS_URL must be a redis:// URL');
  const secret = process.env.TOKEN_SECRET;
  if (!secret || secret.length < 16) throw new Error('TOKEN_SECRET must be at least 16 characters');
  const server = await startSocketIoChatServer({ port, redisUrl, secret });
  log.info({ url: server.url }, 'listening');
  exitGracefullyOnSignals(log, () => server.close(), 5_000);
} catch (error) {
  exitOnStartFailure('socketio-chat', error);
}
