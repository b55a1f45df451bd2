import { createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { hostname } from 'node:os';
import { WebSocketServer } from 'ws';
import { Redis } from 'ioredis';
import { roomFromSubject, subjects } from '@chorus/shared/bus/names';
import { ensureMessageStream } from '@chorus/shared/bus/jetstream-setup';
import { connectNats } from '@chorus/shared/bus/nats-connection';
import { createLogger, type Logger } from '@chorus/shared/logging/logger';
import { protocolLimits } from '@chorus/shared/protocol/limits';
import { TokenIssuer } from './auth/tokens.js';
import { MessageServiceClient } from './backend/message-service-client.js';
import { ClientConnection } from './connection/client-connection.js';
import type { GatewayServices } from './connection/gateway-services.js';
import { MessageEnqueuer } from './enqueue/message-enqueuer.js';
import { RoomSequencer } from './enqueue/room-sequencer.js';
import { createHttpHandler } from './http/http-routes.js';
import { loadStaticFiles } from './http/static-files.js';
import { GatewayMetrics } from './http/gateway-metrics.js';
import { PresenceTracker } from './presence/presence-tracker.js';
import { MembershipCache } from './rooms/membership-cache.js';
import { RoomHub } from './rooms/room-hub.js';

export interface GatewayConfig {
  natsUrl: string;
  redisUrl: string;
  tokenSecret: string;
  port: number;
  host?: string;
  /** Unique per process/pod; names this gateway in presence and traces. */
  gatewayId?: string;
  maxFrameBytes?: number;
  maxBufferedBytes?: number;
  publicDir?: string;
  logger?: Logger;
}

export interface Gateway {
  readonly port: number;
  readonly gatewayId: string;
  connections(): number;
  close(): Promise<void>;
}

const defaultPublicDir = fileURLToPath(new URL('../../public', import.meta.url));

/** Starts a gateway: HTTP (page, login, health) and WebSocket on one port. */
export async function startGateway(config: GatewayConfig): Promise<Gateway> {
  const gatewayId = config.gatewayId ?? `${hostname()}-${process.pid}`;
  const log = config.logger ?? createLogger('gateway', { gateway: gatewayId });
  const tokens = new TokenIssuer(config.tokenSecret);
  const nc = await connectNats(config.natsUrl, `gateway ${gatewayId}`);
  await ensureMessageStream(nc);
  const redis = new Redis(config.redisUrl, { enableAutoPipelining: true, maxRetriesPerRequest: 3, lazyConnect: true });
  await redis.connect();

  const backend = new MessageServiceClient(nc);
  const membership = new MembershipCache(redis, backend);
  const enqueuer = new MessageEnqueuer(nc);
  const presence = new PresenceTracker(redis, nc, gatewayId);
  const metrics = new GatewayMetrics();
  const services: GatewayServices = {
    gatewayId,
    log,
    backend,
    membership,
    enqueuer,
    presence,
    metrics,
    sequencer: new RoomSequencer(redis, async (room) => {
      const [{ head }, queued] = await Promise.all([backend.rooms({ op: 'head', room }), enqueuer.lastQueuedSeq(room)]);
      return Math.max(head, queued);
    }),
    hub: new RoomHub(nc, backend, log, gatewayId, (room) => presence.online(room), metrics),
    maxFrameBytes: config.maxFrameBytes ?? protocolLimits.maxFrameBytes,
    maxBufferedBytes: config.maxBufferedBytes ?? 8 * 1024 * 1024,
  };

  // Membership changed elsewhere: forget this gateway's cached copy.
  const invalidations = nc.subscribe(subjects.membershipAll, {
    callback: (_, message) => membership.invalidate(roomFromSubject(message.subject)),
  });

  // Frames between our limit and 4x it get an error frame and the socket lives on; ws closes a
  // socket only above 4x, which bounds the memory one frame can take.
  const wss = new WebSocketServer({ noServer: true, maxPayload: services.maxFrameBytes * 4, perMessageDeflate: false });
  const sockets = new Set<ClientConnection>();
  const server: Server = createServer(
    createHttpHandler({
      tokens,
      staticFiles: loadStaticFiles(config.publicDir ?? defaultPublicDir),
      ready: () => !nc.isClosed() && redis.status === 'ready',
      gatewayId,
      metrics: metrics.registry,
    }),
  );
  server.on('upgrade', (request, socket: Duplex, head) => {
    const url = new URL(request.url ?? '/', 'http://gateway');
    if (url.pathname !== '/ws') return reject(socket, 404, 'Not Found');
    void tokens.verify(url.searchParams.get('token')).then((user) => {
      if (!user) return reject(socket, 401, 'Unauthorized');
      wss.handleUpgrade(request, socket, head, (ws) => {
        const connection = new ClientConnection(ws, user, services);
        sockets.add(connection);
        metrics.connections.set(sockets.size);
        ws.once('close', () => {
          sockets.delete(connection);
          metrics.connections.set(sockets.size);
        });
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  log.info({ port, gatewayId }, 'gateway listening');

  return {
    port,
    gatewayId,
    connections: () => sockets.size,
    async close() {
      server.close();
      for (const client of wss.clients) client.close(1001, 'gateway shutting down');
      wss.close();
      invalidations.unsubscribe();
      await services.hub.close();
      await presence.close().catch(() => {});
      await nc.drain().catch(() => {});
      redis.disconnect();
      server.closeAllConnections();
    },
  };
}

function reject(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
