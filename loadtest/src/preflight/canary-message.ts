import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { clientSubprotocols } from '@chorus/shared/protocol/auth-subprotocol';
import { LoginClient } from '../client/login.js';
import type { CheckResult } from './check-result.js';
import { startCanaryGateway } from './canary-gateway.js';

type Frame = { type: string; rid?: number; room?: string; text?: string; sender?: string; code?: string; message?: string };

/** One socket of the canary: frames in order, replies matched by rid, every wait bounded. */
class CanaryUser {
  private readonly frames: Frame[] = [];
  private readonly listeners = new Set<() => void>();
  private rid = 1;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      try {
        this.frames.push(JSON.parse(String(data)) as Frame);
      } catch {
        this.frames.push({ type: 'unparsable' });
      }
      for (const listener of this.listeners) listener();
    });
  }

  static async connect(url: string, token: string, timeoutMs: number): Promise<CanaryUser> {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, clientSubprotocols(token), { handshakeTimeout: timeoutMs });
    const user = new CanaryUser(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    await user.waitFor((f) => f.type === 'welcome', timeoutMs, 'welcome');
    return user;
  }

  async request(frame: Record<string, unknown>, timeoutMs: number): Promise<Frame> {
    const rid = this.rid++;
    this.socket.send(JSON.stringify({ ...frame, rid }));
    return this.waitFor((f) => f.rid === rid, timeoutMs, `a reply to ${String(frame.type)}`);
  }

  waitFor(match: (frame: Frame) => boolean, timeoutMs: number, what: string): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.frames.find(match);
        if (!found) return;
        this.listeners.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  close(): void {
    this.socket.close();
  }
}

/**
 * The canary: a gateway of the new version inside this pod, a sender and a receiver on it, one
 * message from one to the other. It crosses the live platform the way users' messages do: the
 * room is created and joined through the running message-services' RPCs, the message goes into
 * the live stream, and comes back through the stream's live republish.
 */
export async function canaryMessage(env: { natsUrl: string; redisUrl: string; redisPassword?: string | undefined }, timeoutMs: number): Promise<CheckResult> {
  const name = 'canary.message';
  const id = randomBytes(4).toString('hex');
  const started = Date.now();
  let gateway;
  try {
    gateway = await startCanaryGateway({ ...env, id: `preflight-${id}` }, timeoutMs);
  } catch (error) {
    return { name, ok: false, detail: (error as Error).message };
  }
  const login = new LoginClient();
  const users: CanaryUser[] = [];
  try {
    const connect = async (who: string) => {
      const user = await CanaryUser.connect(gateway.url, await login.login(`${gateway.url}/api/login`, who, timeoutMs), timeoutMs);
      users.push(user);
      return user;
    };
    const sender = await connect(`preflight-${id}-sender`);
    const receiver = await connect(`preflight-${id}-receiver`);
    const room = `preflight-${id}`;
    const created = await sender.request({ type: 'create', room }, timeoutMs);
    if (created.type !== 'joined') return { name, ok: false, detail: `create ${room}: ${created.type} ${created.code ?? ''} ${created.message ?? ''}` };
    const joined = await receiver.request({ type: 'join', room }, timeoutMs);
    if (joined.type !== 'joined') return { name, ok: false, detail: `join ${room}: ${joined.type} ${joined.code ?? ''} ${joined.message ?? ''}` };
    const text = `canary ${id}`;
    const sentAt = Date.now();
    const ack = await sender.request({ type: 'send', room, clientMsgId: `canary-${id}`, text }, timeoutMs);
    if (ack.type !== 'ack') return { name, ok: false, detail: `send: ${ack.type} ${ack.code ?? ''} ${ack.message ?? ''}` };
    await receiver.waitFor((f) => f.type === 'message' && f.room === room && f.text === text, timeoutMs, 'canary message at the receiver');
    return { name, ok: true, detail: `room ${room}: sent, acked and delivered in ${Date.now() - sentAt} ms through a canary gateway (up in ${sentAt - started} ms)` };
  } catch (error) {
    return { name, ok: false, detail: `${(error as Error).message}; canary gateway output: ${gateway.output().split('\n').slice(-3).join(' | ')}` };
  } finally {
    for (const user of users) user.close();
    login.close();
    await gateway.stop();
  }
}
