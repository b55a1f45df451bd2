import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { hostname } from 'node:os';
import { WebSocketServer, type WebSocket } from 'ws';
import { Redis } from 'ioredis';
import { roomFromSubject, subjects } from '@chorus/shared/bus/names';
import { membershipChange } from '@chorus/shared/bus/payloads';
import { ensureMessageStream, type StreamSetupOptions } from '@chorus/shared/bus/jetstream-setup';
import { connectNats } from '@chorus/shared/bus/nats-connection';
import { createLogger, type Logger } from '@chorus/shared/logging/logger';
import { protocolLimits } from '@chorus/shared/protocol/limits';
import { SpanKind } from '@opentelemetry/api';
import { contextFromTraceparent, tracer } from '@chorus/shared/telemetry/tracing';
import { protocolVersion } from '@chorus/shared/protocol/auth-subprotocol';
import { closeCodes } from '@chorus/shared/protocol/close-codes';
import { createAuthentication, type AuthSettings } from './auth/auth-settings.js';
import { OriginPolicy } from './auth/origin-policy.js';
import { RevocationList } from './auth/revocation-list.js';
import { UpgradeAuthenticator } from './auth/upgrade-authenticator.js';
import type { VerifiedToken } from './auth/verified-token.js';
import { MessageServiceClient } from './backend/message-service-client.js';
import { ClientConnection } from './connection/client-connection.js';
import { ConnectionsByUser } from './connection/connections-by-user.js';
import type { GatewayServices } from './connection/gateway-services.js';
import { createHttpHandler } from './http/http-routes.js';
import { createInternalHandler } from './http/internal-routes.js';
import { loadStaticFiles } from './http/static-files.js';
import { GatewayMetrics } from './http/gateway-metrics.js';
import { NatsRoomBroker } from './ordering/nats-room-broker.js';
import { RoomHub } from './ordering/room-hub.js';
import { RoomReader } from './ordering/room-reader.js';
import { PresencePusher } from './presence/presence-pusher.js';
import { PresenceTracker } from './presence/presence-tracker.js';
import { MessagePublisher } from './publish/message-publisher.js';
import { MembershipCache } from './rooms/membership-cache.js';
import { defaultDrainSettings, drainSockets, immediateDrain, type DrainSettings } from './lifecycle/socket-drain.js';
import { FrameLimits } from './limits/frame-limiter.js';
import { gatewayLimits, type GatewayLimitOverrides } from './limits/gateway-limits.js';
import { httpServerOptions, limitBodies } from './limits/http-limits.js';
import { RedisSocketQuota, type SocketSlot } from './limits/socket-quota.js';
import { limitNames } from '@chorus/shared/protocol/limit-names';

export interface GatewayConfig {
  natsUrl: string;
  redisUrl: string;
  /** Redis's password (AUTH), when it has one. */
  redisPassword?: string;
  auth: AuthSettings;
  /**
   * Page origins allowed to open sockets (scheme://host[:port]). Empty or absent: only the page's
   * own host. Clients that send no Origin (not browsers) are always allowed.
   */
  allowedOrigins?: readonly string[];
  port: number;
  host?: string;
  /**
   * A port every gateway of this machine also listens on, when they run as workers of one cluster
   * primary (`npm start`): the primary hands each connection on it to the next gateway in turn.
   */
  sharedPort?: number;
  /** Internal port of /metrics, health and admin (0 = a free port); never behind the public Service. */
  metricsPort: number;
  metricsHost?: string;
  /** Bearer secret of POST /admin/revoke on the internal port; absent = no admin endpoint. */
  adminToken?: string;
  /** Unique per process/pod; names this gateway in presence and traces. */
  gatewayId?: string;
  maxFrameBytes?: number;
  maxBufferedBytes?: number;
  maxRoomsPerSocket?: number;
  /** Abuse limits (rates, sockets per user, HTTP timeouts); defaults in limits/gateway-limits.ts. */
  limits?: GatewayLimitOverrides;
  /** How often sockets are pinged; one silent for two intervals is closed (default 30 s). */
  pingIntervalMs?: number;
  /** Retention and consumer settings passed to the stream set-up (tests shorten ack_wait). */
  stream?: StreamSetupOptions;
  publicDir?: string;
  logger?: Logger;
  /** How close() moves the clients away (reconnect window, grace, timeout); absent: immediateDrain (lifecycle/socket-drain.ts). */
  drain?: Partial<DrainSettings>;
}

export interface Gateway {
  readonly port: number;
  readonly metricsPort: number;
  readonly gatewayId: string;
  connections(): number;
  /**
   * Drains, then stops: not ready at once and no new sockets, every client told to reconnect
   * elsewhere after a jittered delay, sockets closed once their sends are answered (bounded by the
   * drain timeout), then every connection to the backends closed.
   */
  close(): Promise<void>;
}

const defaultPublicDir = fileURLToPath(new URL('../../public', import.meta.url));

/** Starts a gateway: HTTP (page, dev login, health) and WebSocket on one port; metrics and admin on another. */
export async function startGateway(config: GatewayConfig): Promise<Gateway> {
  const gatewayId = config.gatewayId ?? `${hostname()}-${process.pid}`;
  const log = config.logger ?? createLogger('gateway', { gateway: gatewayId });
  const authentication = createAuthentication(config.auth);
  const nc = await connectNats(config.natsUrl, `gateway ${gatewayId}`);
  await ensureMessageStream(nc, { ...config.stream, consumer: false, createOnly: true });
  const redis = new Redis(config.redisUrl, {
    enableAutoPipelining: true,
    maxRetriesPerRequest: 3,
    lazyConnect: true,
    ...(config.redisPassword && { password: config.redisPassword }),
  });
  await redis.connect();

  const backend = new MessageServiceClient(nc);
  const broker = new NatsRoomBroker(nc, log);
  const reader = new RoomReader(broker, (room, after, limit) => backend.history({ room, after, limit }));
  const membership = new MembershipCache(redis, backend);
  const presence = new PresenceTracker(redis, nc, gatewayId);
  const metrics = new GatewayMetrics();
  const limits = gatewayLimits(config.limits);
  const socketQuota = new RedisSocketQuota(redis, gatewayId, limits.socketsPerUser);
  const revocations = new RevocationList(redis, nc, authentication.maxLifetimeSeconds + authentication.clockToleranceSeconds, log);
  const upgrades = new UpgradeAuthenticator(authentication.verifier, new OriginPolicy(config.allowedOrigins ?? []), revocations);
  let pusher: PresencePusher | undefined;
  const hub = new RoomHub({
    broker,
    reader,
    log,
    storedHead: async (room) => (await backend.rooms({ op: 'head', room })).head,
    onRoomsChanged: (count) => metrics.rooms.set(count),
    onRoomOpened: (room) => pusher?.open(room),
    onRoomClosed: (room) => pusher?.close(room),
    onDelivered: (message, traceparent, listeners) => {
      metrics.delivered.inc(listeners);
      if (!traceparent) return;
      tracer()
        .startSpan(
          'gateway.deliver',
          { kind: SpanKind.CONSUMER, attributes: { 'chorus.gateway': gatewayId, 'chorus.room': message.room, 'chorus.pos': message.pos, 'chorus.receivers': listeners } },
          contextFromTraceparent(traceparent),
        )
        .end();
    },
  });
  pusher = new PresencePusher(nc, (room) => presence.online(room), { sockets: (room) => hub.listenersOf(room) }, log);
  const services: GatewayServices = {
    gatewayId,
    log,
    backend,
    membership,
    publisher: new MessagePublisher(broker, backend),
    hub,
    reader,
    presence,
    metrics,
    auth: { verifier: authentication.verifier, revocations, clockToleranceSeconds: authentication.clockToleranceSeconds },
    maxFrameBytes: config.maxFrameBytes ?? protocolLimits.maxFrameBytes,
    maxBufferedBytes: config.maxBufferedBytes ?? 8 * 1024 * 1024,
    maxRoomsPerSocket: config.maxRoomsPerSocket ?? 500,
    frameLimits: new FrameLimits(limits),
  };

  const byUser = new ConnectionsByUser<ClientConnection>();
  // Membership changed elsewhere: forget this gateway's cached copy. A removal or ban also ends
  // the user's live delivery of the room on this gateway at once.
  const invalidations = nc.subscribe(subjects.membershipAll, {
    callback: (_, message) => {
      const room = roomFromSubject(message.subject);
      membership.invalidate(room);
      if (message.data.length === 0) return; // an older replica's bare "changed"
      let body: unknown;
      try {
        body = message.json();
      } catch {
        body = undefined;
      }
      const parsed = membershipChange.safeParse(body);
      if (!parsed.success) return void log.warn({ room }, 'invalid membership change ignored');
      const { user, change } = parsed.data;
      if (change !== 'removed' && change !== 'banned') return;
      void membership.removed(room, user).catch(() => {});
      for (const connection of byUser.of(user)) void connection.endRoom(room, change).catch(() => {});
    },
  });

  // Frames between our limit and 4x it get an error frame and the socket lives on; ws closes a
  // socket only above 4x, which bounds the memory one frame can take.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: services.maxFrameBytes * 4,
    perMessageDeflate: false,
    // Select only the protocol version: the bearer "protocol" carries the token and is never echoed.
    handleProtocols: (offered) => (offered.has(protocolVersion) ? protocolVersion : false),
  });
  const sockets = new Set<ClientConnection>();
  let lastSocketClosed: (() => void) | undefined;
  revocations.listen((matches) => {
    for (const connection of sockets) if (matches(connection.token)) connection.end(closeCodes.tokenRevoked, 'token_revoked');
  });
  // The server pings every socket; one that has not answered the previous ping is dead (a
  // vanished laptop, a dropped NAT entry): terminate it, which ends its presence.
  const alive = new WeakSet<WebSocket>();
  const keepAlive = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) {
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, config.pingIntervalMs ?? 30_000);
  keepAlive.unref();
  // Draining: /readyz answers 503 at once (a Service stops sending new clients) and upgrades are refused.
  let draining = false;
  const ready = () => !draining && !nc.isClosed() && redis.status === 'ready';
  const server: Server = createServer(
    httpServerOptions(limits.http),
    limitBodies(
      limits.http,
      createHttpHandler({
        devIssuer: authentication.devIssuer,
        staticFiles: loadStaticFiles(config.publicDir ?? defaultPublicDir),
        ready,
        gatewayId,
        body: { maxBytes: limits.http.maxBodyBytes, timeoutMs: limits.http.bodyTimeoutMs },
      }),
    ),
  );
  // The same header and request timeouts as the public port: a slow client holds neither.
  const internalServer: Server = createServer(
    httpServerOptions(limits.http),
    createInternalHandler({ metrics: metrics.registry, ready, gatewayId, revocations, adminToken: config.adminToken }),
  );
  server.on('upgrade', (request, socket: Duplex, head) => {
    // Node hands the raw socket over without an error listener: a client reset would crash us.
    socket.on('error', () => socket.destroy());
    if (draining) return reject(socket, 503, { error: { code: 'unavailable', message: 'this gateway is shutting down; connect to another' } });
    void upgrades.decide(request).then(async (decision) => {
      if (socket.destroyed) return;
      if (!decision.ok) {
        if (decision.status === 401 || decision.status === 403) log.info({ status: decision.status, code: decision.code, reason: decision.message }, 'socket refused');
        return reject(socket, decision.status, { error: { code: decision.code, message: decision.message } });
      }
      // The slot is taken before the handshake, so no frame can arrive while Redis is asked.
      const slot = await socketQuota.acquire(decision.token.user);
      if (socket.destroyed || draining) {
        slot?.release();
        if (!socket.destroyed) reject(socket, 503, { error: { code: 'unavailable', message: 'this gateway is shutting down; connect to another' } });
        return;
      }
      wss.handleUpgrade(request, socket, head, (ws) => (slot ? accept(ws, socket, decision.token, slot) : refuse(ws, decision.token.user)));
    });
  });

  function accept(ws: WebSocket, socket: Duplex, token: VerifiedToken, slot: SocketSlot): void {
    alive.add(ws);
    ws.on('pong', () => alive.add(ws));
    const connection = new ClientConnection(ws, token, services, socket);
    sockets.add(connection);
    byUser.add(connection);
    metrics.connections.set(sockets.size);
    metrics.accepted.inc();
    ws.once('close', () => {
      slot.release();
      sockets.delete(connection);
      byUser.delete(connection);
      metrics.connections.set(sockets.size);
      if (sockets.size === 0) lastSocketClosed?.();
    });
  }

  /** Over the user's socket limit: the upgrade completes so that a browser sees why (the close code). */
  function refuse(ws: WebSocket, user: string): void {
    ws.on('error', () => ws.terminate());
    metrics.errors.inc({ code: 'limit_exceeded' });
    const message = `${user} has ${limits.socketsPerUser} sockets open; close one first`;
    ws.send(JSON.stringify({ type: 'error', code: 'limit_exceeded', limit: limitNames.socketsPerUser, message }));
    ws.close(closeCodes.tooManySockets, 'too many sockets for this user');
  }

  const port = await listen(server, config.port, config.host ?? '127.0.0.1');
  const metricsPort = await listen(internalServer, config.metricsPort, config.metricsHost ?? '127.0.0.1').catch((error: unknown) => {
    server.close();
    throw error;
  });
  let shared: TcpServer | undefined;
  if (config.sharedPort !== undefined) {
    // The shared port's connections are served exactly as the gateway's own.
    const front = createTcpServer((socket) => server.emit('connection', socket));
    shared = front;
    await new Promise<void>((resolve, reject) => {
      front.once('error', reject);
      front.listen(config.sharedPort, config.host ?? '127.0.0.1', () => resolve());
    });
  }
  log.info({ port, metricsPort, gatewayId, auth: config.auth.mode, ...(config.sharedPort !== undefined && { sharedPort: config.sharedPort }) }, 'gateway listening');

  return {
    port,
    metricsPort,
    gatewayId,
    connections: () => sockets.size,
    async close() {
      draining = true;
      // The shared port hands new connections to the other gateways from now on.
      shared?.close();
      const allClosed = new Promise<void>((resolve) => (lastSocketClosed = resolve));
      if (sockets.size === 0) lastSocketClosed?.();
      await drainSockets(sockets, allClosed, config.drain ? { ...defaultDrainSettings, ...config.drain } : immediateDrain, log);
      clearInterval(keepAlive);
      server.close();
      internalServer.close();
      internalServer.closeAllConnections();
      revocations.close();
      for (const client of wss.clients) client.close(1001, 'gateway shutting down');
      wss.close();
      invalidations.unsubscribe();
      pusher?.closeAll();
      await services.hub.close();
      await presence.close().catch(() => {});
      await socketQuota.close();
      await nc.drain().catch(() => {});
      redis.disconnect();
      server.closeAllConnections();
    },
  };
}

const statusText: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' };

function reject(socket: Duplex, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${statusText[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

/** exclusive: a cluster worker binds its own ports itself; the primary only holds the shared one. */
function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
