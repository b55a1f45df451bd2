import { forEachWithConcurrency } from '@chorus/loadtest/run/concurrency';
import { ChaosClient } from '../client/chaos-client.js';
import { emptyClientStats, type ClientStats } from '../client/client-stats.js';
import { login } from '../client/login.js';
import { DeliveryLedger, type LedgerCounts } from '../ledger/delivery-ledger.js';
import type { WireProtocol } from '../protocol/wire-protocol.js';
import { ReconnectRate } from './reconnect-rate.js';

export interface LoadShape {
  /** Users, each in one room; a multiple of roomSize. */
  users: number;
  roomSize: number;
  /** Total sends per second over all users (new messages; retries come on top). */
  sendsPerSecond: number;
  /** Longest the send phase may run: bounds the ledger. */
  maxSendSeconds: number;
}

export interface LoadDriverOptions {
  gatewayUrls: string[];
  protocol: WireProtocol;
  shape: LoadShape;
  /** Prefix of user and room names (letters, digits, `-`, `_`). */
  prefix: string;
  ackTimeoutMs?: number;
  maxPendingPerUser?: number;
  setupTimeoutMs?: number;
}

export interface LoadSnapshot {
  ledger: LedgerCounts;
  client: ClientStats;
  connected: number;
  users: number;
  unanswered: number;
}

const setupConcurrency = 20;
const retryTickMs = 100;
const sendTickMs = 10;

/**
 * Steady chat load with an exact ledger: logs every user in, connects each to one gateway
 * (user i to gateway i mod n), puts them in rooms (the first member creates the room), then sends
 * new messages at a fixed total rate, round robin over the users, until told to stop.
 */
export class LoadDriver {
  readonly ledger: DeliveryLedger;
  readonly stats = emptyClientStats();
  /** Every reconnect that got a welcome, by second: its peak is what the surviving gateways took. */
  readonly reconnects = new ReconnectRate();
  private clients: ChaosClient[] = [];
  private sendTimer: NodeJS.Timeout | undefined;
  private readonly retryTimer: NodeJS.Timeout;
  private sendStartedAt = 0;
  private started = 0;
  private nextUser = 0;

  private constructor(private readonly options: LoadDriverOptions) {
    const { shape } = options;
    if (!Number.isInteger(shape.users) || !Number.isInteger(shape.roomSize) || shape.users < 1 || shape.roomSize < 1 || shape.users % shape.roomSize !== 0) {
      throw new Error(`users (${shape.users}) must be a positive multiple of the room size (${shape.roomSize})`);
    }
    if (!/^[A-Za-z0-9_-]{1,16}$/.test(options.prefix)) throw new Error(`prefix "${options.prefix}" must be 1-16 of A-Z a-z 0-9 _ -`);
    // Every send may be tracked once, plus a margin for messages seen only as deliveries.
    this.ledger = new DeliveryLedger({ maxMessages: Math.ceil(shape.sendsPerSecond * shape.maxSendSeconds * 1.1) + 1_000 });
    this.retryTimer = setInterval(() => {
      const now = performance.now();
      for (const client of this.clients) client.tick(now);
      this.ledger.observe();
    }, retryTickMs);
  }

  /** Logs in, connects and sets up every room; rejects (and closes what it opened) on a failure. */
  static async start(options: LoadDriverOptions): Promise<LoadDriver> {
    const driver = new LoadDriver(options);
    try {
      await withTimeout(driver.setUp(), options.setupTimeoutMs ?? 60_000, 'setting up the users and rooms');
      return driver;
    } catch (error) {
      driver.close();
      throw error;
    }
  }

  private async setUp(): Promise<void> {
    const { shape, gatewayUrls, prefix, protocol } = this.options;
    const names = Array.from({ length: shape.users }, (_, i) => `${prefix}-u${i}`);
    const clients: ChaosClient[] = new Array(shape.users);
    await forEachWithConcurrency(names, setupConcurrency, async (user, i) => {
      const token = await login(gatewayUrls[i % gatewayUrls.length]!, user);
      const client = new ChaosClient({
        user,
        token,
        gatewayUrls,
        firstGateway: i,
        protocol,
        ledger: this.ledger,
        stats: this.stats,
        ackTimeoutMs: this.options.ackTimeoutMs ?? 5_000,
        maxPending: this.options.maxPendingPerUser ?? 50,
        onReconnected: (now) => this.reconnects.record(now),
      });
      clients[i] = client;
      this.clients.push(client);
      await client.connect();
    });
    this.clients = clients;
    const rooms = Array.from({ length: shape.users / shape.roomSize }, (_, r) => ({
      room: `${prefix}-r${r}`,
      members: clients.slice(r * shape.roomSize, (r + 1) * shape.roomSize),
    }));
    await forEachWithConcurrency(rooms, 4, async ({ room, members }) => {
      const [creator, ...others] = members;
      const entered = [{ client: creator!, head: await creator!.enter(room, true) }];
      entered.push(...(await Promise.all(others.map(async (client) => ({ client, head: await client.enter(room, false) })))));
      for (const { client, head } of entered) {
        this.ledger.addMember(room, client.user, head);
        client.memberOf(room);
      }
    });
  }

  /** The room of user i (each user is in one room). */
  private roomOf(i: number): string {
    return `${this.options.prefix}-r${Math.floor(i / this.options.shape.roomSize)}`;
  }

  /** Starts sending at the fixed rate; stops by itself after maxSendSeconds. */
  startSending(): void {
    if (this.sendTimer) return;
    this.sendStartedAt = performance.now();
    const { sendsPerSecond, maxSendSeconds } = this.options.shape;
    this.sendTimer = setInterval(() => {
      const now = performance.now();
      const elapsed = Math.min((now - this.sendStartedAt) / 1000, maxSendSeconds);
      const due = Math.floor(elapsed * sendsPerSecond);
      for (; this.started < due; this.started++) {
        const i = this.nextUser;
        this.nextUser = (this.nextUser + 1) % this.clients.length;
        this.clients[i]!.send(this.roomOf(i), now);
      }
      if (elapsed >= maxSendSeconds) this.stopSending();
    }, sendTickMs);
  }

  stopSending(): void {
    clearInterval(this.sendTimer);
    this.sendTimer = undefined;
  }

  /**
   * After the send phase: waits until every send is answered with an ack and every acked message
   * reached every member, or until the timeout. Resolves with whether it got there.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    this.stopSending();
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const snapshot = this.snapshot();
      if (snapshot.unanswered === 0 && snapshot.ledger.outstanding === 0) return true;
      if (performance.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  snapshot(): LoadSnapshot {
    let connected = 0;
    let unanswered = 0;
    for (const client of this.clients) {
      if (client.connected) connected++;
      unanswered += client.unanswered;
    }
    return { ledger: this.ledger.snapshot(), client: this.stats, connected, users: this.clients.length, unanswered };
  }

  close(): void {
    this.stopSending();
    clearInterval(this.retryTimer);
    for (const client of this.clients) client?.close();
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
