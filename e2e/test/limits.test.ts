import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startPlatform, type Platform } from '@chorus/local/platform';
import type { ServerFrame } from '@chorus/shared/protocol/server-frames';
import { clientSubprotocols } from '@chorus/shared/protocol/auth-subprotocol';
import { closeCodes } from '@chorus/shared/protocol/close-codes';
import { ChatClient } from './support/chat-client.js';
import { waitUntil } from './support/wait-until.js';

type ErrorFrame = Extract<ServerFrame, { type: 'error' }>;

const limits = {
  LIMIT_SOCKET_SENDS_PER_SEC: 20,
  LIMIT_SOCKET_SEND_BURST: 40,
  LIMIT_USER_SENDS_PER_SEC: 30,
  LIMIT_USER_SEND_BURST: 60,
  LIMIT_SOCKET_FRAMES_PER_SEC: 20,
  LIMIT_SOCKET_FRAME_BURST: 40,
  LIMIT_SOCKETS_PER_USER: 3,
  LIMIT_ROOMS_CREATED_PER_HOUR: 3,
  LIMIT_ROOMS_PER_USER: 5,
  LIMIT_MEMBERS_PER_ROOM: 3,
  HTTP_HEADERS_TIMEOUT_MS: 1_500,
  HTTP_REQUEST_TIMEOUT_MS: 2_000,
  HTTP_BODY_TIMEOUT_MS: 1_000,
  HTTP_MAX_BODY_BYTES: 1_024,
};

describe('abuse limits on the real platform', () => {
  let platform: Platform;
  let dataDir: string;
  const clients: ChatClient[] = [];
  const login = async (user: string, gateway = 0) => {
    const client = await ChatClient.login(platform.gatewayUrls[gateway]!, user);
    clients.push(client);
    return client;
  };

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'chorus-limits-'));
    platform = await startPlatform({ dataDir, gateways: 2, messageServices: 1, limits });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a socket flooding sends is answered rate_limited with a retry hint; another user on the same gateway keeps chatting at low latency', async () => {
    const mallory = await login('mallory');
    const alice = await login('alice');
    const bob = await login('bob');
    await mallory.request({ type: 'create', room: 'flood' });
    await alice.request({ type: 'create', room: 'calm' });
    await bob.request({ type: 'join', room: 'calm' });

    const startedAt = Date.now();
    const flood = Promise.all(Array.from({ length: 500 }, (_, i) => mallory.request({ type: 'send', room: 'flood', clientMsgId: `f${i}`, text: `spam ${i}` })));
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const sentAt = Date.now();
      const ack = await alice.request({ type: 'send', room: 'calm', clientMsgId: `calm-${i}`, text: `calm ${i}` });
      latencies.push(Date.now() - sentAt);
      assert.equal(ack.type, 'ack', `alice's message ${i}: ${JSON.stringify(ack)}`);
      await new Promise((resolve) => setTimeout(resolve, 25)); // a person's pace, not part of any assertion
    }
    const replies = await flood;
    const elapsedSec = (Date.now() - startedAt) / 1000;
    const acked = replies.filter((r) => r.type === 'ack').length;
    const limited = replies.filter((r): r is ErrorFrame => r.type === 'error' && r.code === 'rate_limited');
    assert.equal(acked + limited.length, 500, 'every send is answered: ack or rate_limited');
    assert.ok(acked <= 40 + Math.ceil(20 * elapsedSec) + 1, `at most the burst plus the rate: ${acked} acks in ${elapsedSec} s`);
    assert.ok(limited.length >= 400, `${limited.length} refused`);
    for (const refusal of limited) {
      assert.equal(refusal.limit, 'socketSends');
      assert.ok(refusal.retryAfterMs! > 0 && refusal.retryAfterMs! <= 1000, `retryAfterMs ${refusal.retryAfterMs}`);
      assert.equal(refusal.request, 'send');
    }

    await bob.waitForMessages('calm', 20);
    assert.deepEqual(bob.messages('calm').map((m) => m.text), Array.from({ length: 20 }, (_, i) => `calm ${i}`), "alice's messages reach bob, all of them, in order");
    latencies.sort((a, b) => a - b);
    assert.ok(latencies.at(-1)! < 1_000, `alice's slowest ack took ${latencies.at(-1)} ms`);

    // After the hint, the flooder may send again.
    await new Promise((resolve) => setTimeout(resolve, limited.at(-1)!.retryAfterMs!));
    await waitUntil(async () => (await mallory.request({ type: 'send', room: 'flood', clientMsgId: 'later', text: 'ok now' })).type === 'ack', 5_000, 'a send after the retry hint');
  });

  test("sends are limited per user over the user's sockets on a gateway", async () => {
    const first = await login('trudy');
    const second = await login('trudy');
    await first.request({ type: 'create', room: 'trudy-room' });
    await second.request({ type: 'join', room: 'trudy-room' });
    // 2 x 40 is within each socket's burst, over the user's burst of 60.
    const replies = await Promise.all(
      [first, second].flatMap((client, s) => Array.from({ length: 40 }, (_, i) => client.request({ type: 'send', room: 'trudy-room', clientMsgId: `u${s}-${i}`, text: 'x' }))),
    );
    const limited = replies.filter((r): r is ErrorFrame => r.type === 'error' && r.code === 'rate_limited');
    assert.ok(limited.length >= 15, `${limited.length} refused`);
    assert.ok(limited.every((r) => r.limit === 'userSends'), JSON.stringify(limited[0]));
  });

  test('other frames are limited per socket', async () => {
    const client = await login('pinger');
    const replies = await Promise.all(Array.from({ length: 100 }, () => client.request({ type: 'ping' })));
    const pongs = replies.filter((r) => r.type === 'pong').length;
    const limited = replies.filter((r): r is ErrorFrame => r.type === 'error' && r.code === 'rate_limited');
    assert.equal(pongs + limited.length, 100);
    assert.ok(pongs >= 40 && pongs <= 45, `${pongs} pongs: the burst of 40 and what refilled meanwhile`);
    assert.ok(limited.every((r) => r.limit === 'socketFrames' && r.retryAfterMs! > 0));
  });

  test('sockets per user hold across gateways: the 4th socket is told limit_exceeded and closed with 4429; a freed slot can be used', async () => {
    const held = [await login('erin', 0), await login('erin', 0), await login('erin', 1)];
    const refused = await rawSocket(platform.gatewayUrls[1]!, 'erin');
    assert.equal(refused.closeCode, closeCodes.tooManySockets);
    assert.deepEqual(refused.frames.map((f) => f.type === 'error' && [f.code, f.limit]), [['limit_exceeded', 'socketsPerUser']]);
    assert.equal((await held[0]!.request({ type: 'ping' })).type, 'pong', 'the open sockets are untouched');
    await held[2]!.close();
    await waitUntil(async () => (await rawSocket(platform.gatewayUrls[0]!, 'erin', true)).closeCode === undefined, 10_000, 'a socket admitted after one closed');
  });

  test('rooms created per user per hour', async () => {
    const frank = await login('frank');
    for (let i = 0; i < 3; i++) assert.equal((await frank.request({ type: 'create', room: `frank-${i}` })).type, 'joined');
    const refused = await frank.request({ type: 'create', room: 'frank-3' });
    assert.equal(refused.type === 'error' && refused.code, 'limit_exceeded', JSON.stringify(refused));
    assert.equal(refused.type === 'error' && refused.limit, 'roomsCreatedPerHour');
    const retry = refused.type === 'error' ? refused.retryAfterMs! : 0;
    assert.ok(retry > 3_500_000 && retry <= 3_600_000, `retry in ${retry} ms: when the first of the hour's rooms is an hour old`);
    assert.equal((await frank.request({ type: 'join', room: 'calm' })).type, 'joined', 'joining is not creating');
  });

  test('rooms per user and members per room', async () => {
    const owners = await Promise.all(['own1', 'own2', 'own3', 'own4', 'own5', 'own6'].map((u) => login(u)));
    for (const [i, owner] of owners.entries()) await owner.request({ type: 'create', room: `open-${i}` });
    const gina = await login('gina');
    for (let i = 0; i < 5; i++) assert.equal((await gina.request({ type: 'join', room: `open-${i}` })).type, 'joined');
    const sixth = await gina.request({ type: 'join', room: 'open-5' });
    assert.deepEqual(sixth.type === 'error' && [sixth.code, sixth.limit], ['limit_exceeded', 'roomsPerUser']);
    const mine = await gina.request({ type: 'create', room: 'gina-own' });
    assert.deepEqual(mine.type === 'error' && [mine.code, mine.limit], ['limit_exceeded', 'roomsPerUser'], 'a creator becomes a member too');
    assert.equal((await gina.request({ type: 'join', room: 'open-0' })).type, 'joined', 'joining a room one is in is free');

    // open-0 has own1 and gina; one more fits, the 4th member does not.
    const [hal, ivy] = [await login('hal'), await login('ivy')];
    assert.equal((await hal.request({ type: 'join', room: 'open-0' })).type, 'joined');
    const full = await ivy.request({ type: 'join', room: 'open-0' });
    assert.deepEqual(full.type === 'error' && [full.code, full.limit], ['limit_exceeded', 'membersPerRoom']);
    await gina.request({ type: 'leave', room: 'open-0' });
    assert.equal((await ivy.request({ type: 'join', room: 'open-0' })).type, 'joined', 'a place freed by a leave');
  });

  test('HTTP: a trickling body is cut at the body deadline, trickling headers at the headers timeout, a large body refused with 413', async () => {
    const { port } = new URL(platform.gatewayUrls[0]!);
    const body = await trickle(Number(port), 'POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n', '{"user":"' + 'a'.repeat(190));
    assert.ok(body.closedAfterMs < 4_000, `a body trickling a byte every 100 ms was cut after ${body.closedAfterMs} ms`);
    assert.ok(body.bytesWritten < 100, 'cut long before it was complete');

    const headers = await trickle(Number(port), 'GET /healthz HTTP/1.1\r\n', 'X-Slow: ' + 'b'.repeat(200));
    assert.ok(headers.closedAfterMs < 5_000, `headers trickling were cut after ${headers.closedAfterMs} ms`);

    const large = await fetch(`${platform.gatewayUrls[0]}/api/login`, { method: 'POST', body: JSON.stringify({ user: 'x'.repeat(2_000) }) });
    assert.equal(large.status, 413);
    const fine = await fetch(`${platform.gatewayUrls[0]}/api/login`, { method: 'POST', body: JSON.stringify({ user: 'fine' }) });
    assert.equal(fine.status, 200);
  });

  test('WebSockets outlive the HTTP request timeout', async () => {
    const client = await login('steady');
    await new Promise((resolve) => setTimeout(resolve, limits.HTTP_REQUEST_TIMEOUT_MS + 1_000)); // must span the timeout
    assert.equal((await client.request({ type: 'ping' })).type, 'pong');
  });
});

/** Opens a socket for `user`; resolves with the frames it got and its close code (undefined: it stayed open, and is closed here). */
async function rawSocket(gatewayUrl: string, user: string, keepOpen = false): Promise<{ frames: ServerFrame[]; closeCode: number | undefined }> {
  const response = await fetch(`${gatewayUrl}/api/login`, { method: 'POST', body: JSON.stringify({ user }) });
  const { token } = (await response.json()) as { token: string };
  const ws = new WebSocket(`${gatewayUrl.replace(/^http/, 'ws')}/ws`, clientSubprotocols(token));
  const frames: ServerFrame[] = [];
  return new Promise((resolve, reject) => {
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as ServerFrame;
      frames.push(frame);
      if (frame.type === 'welcome') {
        if (keepOpen) resolve({ frames, closeCode: undefined });
        else ws.close();
      }
    });
    ws.on('close', (code) => resolve({ frames, closeCode: frames.some((f) => f.type === 'welcome') ? undefined : code }));
    ws.on('error', reject);
  });
}

/** Sends `head` at once, then `rest` a byte every 100 ms, until the server closes the connection. */
function trickle(port: number, head: string, rest: string): Promise<{ closedAfterMs: number; bytesWritten: number }> {
  return new Promise((resolve) => {
    const startedAt = Date.now();
    let bytesWritten = 0;
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    const timer = setInterval(() => {
      if (bytesWritten < rest.length && socket.writable) socket.write(rest[bytesWritten++]!);
    }, 100);
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ closedAfterMs: Date.now() - startedAt, bytesWritten });
    });
  });
}
