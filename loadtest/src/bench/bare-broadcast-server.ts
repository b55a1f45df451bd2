import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { messageIdFor } from '@chorus/shared/protocol/message-id';
import { parseClientFrame } from '@chorus/shared/protocol/parse-client-frame';
import { protocolLimits } from '@chorus/shared/protocol/limits';
import type { ErrorCode } from '@chorus/shared/protocol/error-codes';
import type { RequestId } from '@chorus/shared/protocol/server-frames';
import { bearerPrefix, protocolVersion } from '@chorus/shared/protocol/auth-subprotocol';

/**
 * The floor of what this machine can deliver: the Chorus wire protocol subset the load tester uses
 * (login, create/join/leave, send -> ack, message fan-out, ping) on one `ws` server, with no queue,
 * no database and no presence. Each message is serialised once and written to every member.
 */
export interface BareBroadcastServer {
  url: string;
  close(): Promise<void>;
}

interface Room {
  head: number;
  members: Set<WebSocket>;
}

interface Session {
  user: string;
  rooms: Set<string>;
}

export async function startBareBroadcastServer(options: { port?: number; host?: string } = {}): Promise<BareBroadcastServer> {
  const tokens = new Map<string, string>();
  const rooms = new Map<string, Room>();
  const sessions = new WeakMap<WebSocket, Session>();

  const http: Server = createServer((req, res) => handleHttp(req, res, tokens));
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: protocolLimits.maxFrameBytes,
    handleProtocols: (offered) => (offered.has(protocolVersion) ? protocolVersion : false),
  });

  http.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    // The same handshake as a Chorus gateway: the token in Sec-WebSocket-Protocol, never in the URL.
    const bearer = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).find((p) => p.startsWith(bearerPrefix));
    const user = req.url === '/ws' && bearer ? tokens.get(bearer.slice(bearerPrefix.length)) : undefined;
    if (!user) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sessions.set(ws, { user, rooms: new Set() });
      ws.on('message', onMessage);
      ws.on('close', onClose);
      ws.send(JSON.stringify({ type: 'welcome', user, gateway: 'bare' }));
    });
  });

  function reply(ws: WebSocket, frame: Record<string, unknown>, rid: RequestId | undefined): void {
    ws.send(JSON.stringify(rid === undefined ? frame : { ...frame, rid }));
  }

  function fail(ws: WebSocket, code: ErrorCode, message: string, rid: RequestId | undefined, request?: string): void {
    reply(ws, { type: 'error', code, message, ...(request && { request }) }, rid);
  }

  function onMessage(this: WebSocket, data: Buffer, isBinary: boolean): void {
    const session = sessions.get(this);
    if (!session) return;
    if (isBinary) return fail(this, 'binary_not_supported', 'send JSON text frames', undefined);
    const parsed = parseClientFrame(data);
    if (!parsed.ok) return fail(this, parsed.code, parsed.message, parsed.rid, parsed.request);
    const frame = parsed.frame;
    switch (frame.type) {
      case 'create': {
        if (rooms.has(frame.room)) return fail(this, 'room_exists', `room ${frame.room} exists`, frame.rid, 'create');
        rooms.set(frame.room, { head: 0, members: new Set([this]) });
        session.rooms.add(frame.room);
        return reply(this, { type: 'joined', room: frame.room, head: 0, created: true }, frame.rid);
      }
      case 'join': {
        const room = rooms.get(frame.room);
        if (!room) return fail(this, 'room_not_found', `no room ${frame.room}`, frame.rid, 'join');
        room.members.add(this);
        session.rooms.add(frame.room);
        return reply(this, { type: 'joined', room: frame.room, head: room.head, created: false }, frame.rid);
      }
      case 'leave': {
        rooms.get(frame.room)?.members.delete(this);
        session.rooms.delete(frame.room);
        return reply(this, { type: 'left', room: frame.room }, frame.rid);
      }
      case 'send': {
        const room = rooms.get(frame.room);
        if (!room || !room.members.has(this)) {
          return fail(this, 'not_member', `join ${frame.room} first`, frame.rid, 'send');
        }
        const seq = ++room.head;
        const id = messageIdFor(session.user, frame.clientMsgId);
        reply(this, { type: 'ack', room: frame.room, clientMsgId: frame.clientMsgId, id, seq }, frame.rid);
        const out = JSON.stringify({ type: 'message', room: frame.room, seq, id, sender: session.user, text: frame.text, ts: Date.now() });
        for (const member of room.members) if (member.readyState === WebSocket.OPEN) member.send(out);
        return;
      }
      case 'history':
        return reply(this, { type: 'history', room: frame.room, messages: [], hasMore: false }, frame.rid);
      case 'presence': {
        const online = [...(rooms.get(frame.room)?.members ?? [])].map((ws) => sessions.get(ws)?.user ?? '');
        return reply(this, { type: 'presence', room: frame.room, online }, frame.rid);
      }
      case 'rooms':
        return reply(this, { type: 'rooms', rooms: [...session.rooms].map((r) => ({ room: r, head: rooms.get(r)?.head ?? 0 })) }, frame.rid);
      case 'ping':
        return reply(this, { type: 'pong' }, frame.rid);
    }
  }

  function onClose(this: WebSocket): void {
    const session = sessions.get(this);
    if (!session) return;
    for (const name of session.rooms) rooms.get(name)?.members.delete(this);
  }

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function handleHttp(req: IncomingMessage, res: ServerResponse, tokens: Map<string, string>): void {
  if (req.method !== 'POST' || req.url !== '/api/login') {
    res.writeHead(404).end();
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => {
    body += chunk;
    if (body.length > 4096) req.destroy();
  });
  req.on('end', () => {
    let user: unknown;
    try {
      user = (JSON.parse(body) as { user?: unknown }).user;
    } catch {
      user = undefined;
    }
    if (typeof user !== 'string' || !protocolLimits.userNamePattern.test(user)) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'user must match ' + protocolLimits.userNamePattern }));
      return;
    }
    const token = randomBytes(18).toString('base64url');
    tokens.set(token, user);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, user }));
  });
}
