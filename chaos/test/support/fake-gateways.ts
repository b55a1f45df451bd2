import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { bearerPrefix, protocolVersion } from '@chorus/shared/protocol/auth-subprotocol';

/**
 * Two (or more) in-memory gateways speaking protocol v2 over one shared room store, to test the
 * chaos client's own logic (rotation, resume, resend) without the platform. Positions step by 3:
 * v2 positions are not consecutive. Every client frame is recorded.
 */
interface StoredMessage {
  pos: number;
  prev: number;
  id: string;
  sender: string;
}

interface Attached {
  socket: WebSocket;
  rooms: Set<string>;
}

export class FakeGateways {
  readonly frames: { gateway: number; user: string; frame: Record<string, any> }[] = [];
  /** Acks to drop on purpose, by clientMsgId (a lost ack: the client must resend). */
  readonly dropAckOf = new Set<string>();
  private readonly rooms = new Map<string, StoredMessage[]>();
  private readonly ids = new Map<string, { room: string; pos: number }>();
  private readonly attached = new Set<Attached>();
  private readonly servers: { http: Server; wss: WebSocketServer; sockets: Set<WebSocket> }[] = [];
  readonly urls: string[] = [];

  static async start(count: number): Promise<FakeGateways> {
    const gateways = new FakeGateways();
    for (let i = 0; i < count; i++) await gateways.listen(i);
    return gateways;
  }

  private async listen(index: number): Promise<void> {
    const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => (offered.has(protocolVersion) ? protocolVersion : false) });
    const sockets = new Set<WebSocket>();
    const http = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const { user } = JSON.parse(body) as { user: string };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `t-${user}`, user }));
      });
    });
    http.on('upgrade', (req, socket, head) => {
      // The token rides in Sec-WebSocket-Protocol as on a real gateway: "chorus.bearer.t-<user>".
      const bearer = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).find((p) => p.startsWith(bearerPrefix));
      const user = bearer?.slice(bearerPrefix.length + 2) ?? '';
      wss.handleUpgrade(req, socket, head, (ws) => {
        sockets.add(ws);
        const attached: Attached = { socket: ws, rooms: new Set() };
        this.attached.add(attached);
        ws.on('close', () => {
          sockets.delete(ws);
          this.attached.delete(attached);
        });
        ws.on('message', (data) => this.onFrame(index, user, attached, JSON.parse(String(data))));
        ws.send(JSON.stringify({ type: 'welcome', user, gateway: `fake-${index}` }));
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    this.servers.push({ http, wss, sockets });
    this.urls.push(`http://127.0.0.1:${(http.address() as AddressInfo).port}`);
  }

  /** Kills gateway `index`: its sockets are cut and it accepts no more connections. */
  kill(index: number): void {
    const server = this.servers[index]!;
    server.http.close();
    for (const socket of server.sockets) socket.terminate();
  }

  async stop(): Promise<void> {
    for (const server of this.servers) {
      for (const socket of server.sockets) socket.terminate();
      server.wss.close();
      await new Promise((r) => server.http.close(r));
    }
  }

  private onFrame(gateway: number, user: string, attached: Attached, frame: Record<string, any>): void {
    this.frames.push({ gateway, user, frame });
    const reply = (value: Record<string, unknown>) => attached.socket.send(JSON.stringify({ ...value, rid: frame.rid }));
    const room = frame.room as string;
    switch (frame.type) {
      case 'create':
      case 'join': {
        if (!this.rooms.has(room)) this.rooms.set(room, []);
        const messages = this.rooms.get(room)!;
        attached.rooms.add(room);
        reply({ type: 'joined', room, head: messages.at(-1)?.pos ?? 0, created: frame.type === 'create' });
        if (typeof frame.after === 'number') {
          let prev = frame.after as number;
          for (const m of messages.filter((m) => m.pos > frame.after)) {
            attached.socket.send(JSON.stringify({ type: 'message', room, ...m, prev, text: 't', ts: 0 }));
            prev = m.pos;
          }
        }
        return;
      }
      case 'send': {
        const id = `${user}/${frame.clientMsgId}`;
        const known = this.ids.get(id);
        if (known) return reply({ type: 'ack', room, clientMsgId: frame.clientMsgId, id, pos: known.pos, duplicate: true });
        const messages = this.rooms.get(room)!;
        const prev = messages.at(-1)?.pos ?? 0;
        const message = { pos: prev + 3, prev, id, sender: user };
        messages.push(message);
        this.ids.set(id, { room, pos: message.pos });
        const text = JSON.stringify({ type: 'message', room, ...message, text: 't', ts: 0 });
        for (const other of this.attached) if (other.rooms.has(room)) other.socket.send(text);
        if (this.dropAckOf.has(frame.clientMsgId)) return;
        return reply({ type: 'ack', room, clientMsgId: frame.clientMsgId, id, pos: message.pos });
      }
    }
  }
}
