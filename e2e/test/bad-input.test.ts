import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlatform, type Platform } from '@chorus/local/platform';
import type { ServerFrame } from '@chorus/shared/protocol/server-frames';
import WebSocket from 'ws';
import { clientSubprotocols } from '@chorus/shared/protocol/auth-subprotocol';
import { ChatClient, devToken } from './support/chat-client.js';

describe('bad input gets an error frame and the socket stays usable', () => {
  let platform: Platform;
  let dataDir: string;
  let client: ChatClient;
  let other: ChatClient;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'chorus-bad-input-'));
    platform = await startPlatform({ dataDir, gateways: 1, messageServices: 1, serviceEnv: { PING_INTERVAL_MS: '1000' } });
    client = await ChatClient.login(platform.gatewayUrls[0]!, 'carol');
    other = await ChatClient.login(platform.gatewayUrls[0]!, 'dave');
    await client.request({ type: 'create', room: 'lobby' });
    await other.request({ type: 'create', room: 'private' });
  });
  after(async () => {
    await Promise.all([client?.close(), other?.close()]);
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Sends raw data, waits for the next error frame, then proves the socket still answers. */
  async function rawError(data: string | Buffer, binary = false): Promise<Extract<ServerFrame, { type: 'error' }>> {
    const before = client.frames.length;
    client.sendRaw(data, binary);
    const error = await client.waitFor((f) => f.type === 'error' && client.frames.indexOf(f) >= before);
    const pong = await client.request({ type: 'ping' });
    assert.equal(pong.type, 'pong', 'socket still usable');
    return error as Extract<ServerFrame, { type: 'error' }>;
  }

  const cases: [string, string | Buffer, string, boolean?][] = [
    ['not JSON', '{"type": "send", ', 'bad_json'],
    ['a JSON array', '[1,2,3]', 'invalid_frame'],
    ['no type', '{"room":"lobby"}', 'invalid_frame'],
    ['an unknown type', '{"type":"explode"}', 'unknown_type'],
    ['a send without text', '{"type":"send","room":"lobby","clientMsgId":"a"}', 'invalid_frame'],
    ['a send with a numeric text', '{"type":"send","room":"lobby","clientMsgId":"a","text":5}', 'invalid_frame'],
    ['a room id with a subject wildcard', '{"type":"join","room":"a.>"}', 'invalid_frame'],
    ['an unknown field', '{"type":"ping","extra":1}', 'invalid_frame'],
    ['history with before and after', '{"type":"history","room":"lobby","before":5,"after":1}', 'invalid_frame'],
    ['a too long text', JSON.stringify({ type: 'send', room: 'lobby', clientMsgId: 'a', text: 'x'.repeat(5000) }), 'invalid_frame'],
    ['a frame over 64 KiB', JSON.stringify({ type: 'send', room: 'lobby', clientMsgId: 'a', text: 'x'.repeat(70_000) }), 'frame_too_large'],
    ['a binary frame', Buffer.from([1, 2, 3]), 'binary_not_supported', true],
  ];
  for (const [name, data, code, binary] of cases) {
    test(`${name} -> ${code}`, async () => {
      const error = await rawError(data, binary);
      assert.equal(error.code, code, error.message);
      assert.ok(error.message.length > 0);
    });
  }

  test('the error answers the request it belongs to (rid and type)', async () => {
    const reply = await client.request({ type: 'send', room: 'lobby', clientMsgId: 'z' });
    assert.equal(reply.type, 'error');
    assert.equal(reply.type === 'error' && reply.request, 'send');
    assert.match(reply.type === 'error' ? reply.message : '', /text/);
  });

  test('room errors: not a member, no such room, room exists', async () => {
    const notMember = await client.request({ type: 'send', room: 'private', clientMsgId: 'n', text: 'hi' });
    assert.equal(notMember.type === 'error' && notMember.code, 'not_member');
    const missing = await client.request({ type: 'join', room: 'nowhere' });
    assert.equal(missing.type === 'error' && missing.code, 'room_not_found');
    const exists = await client.request({ type: 'create', room: 'private' });
    assert.equal(exists.type === 'error' && exists.code, 'room_exists');
  });

  test('after all of that, the socket still sends and receives chat messages', async () => {
    const ack = await client.request({ type: 'send', room: 'lobby', clientMsgId: 'fine', text: 'still here' });
    assert.equal(ack.type, 'ack');
    await client.waitFor((f) => f.type === 'message' && f.text === 'still here');
  });

  test('login validates the user name', async () => {
    const response = await fetch(`${platform.gatewayUrls[0]}/api/login`, { method: 'POST', body: JSON.stringify({ user: 'no spaces allowed' }) });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'invalid_request');
    const notJson = await fetch(`${platform.gatewayUrls[0]}/api/login`, { method: 'POST', body: 'user=alice' });
    assert.equal(notJson.status, 400);
  });

  test('an upgrade to `//` is refused with 400 and the gateway lives on (it used to crash)', async () => {
    const { port } = new URL(platform.gatewayUrls[0]!);
    const answer = await rawHttp(Number(port), 'GET // HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    assert.match(answer, /^HTTP\/1.1 (400|404)/);
    assert.equal((await client.request({ type: 'ping' })).type, 'pong', 'the gateway still serves its sockets');
  });

  test('clients that reset the connection during the upgrade do not take the gateway down (it used to crash)', async () => {
    const { port } = new URL(platform.gatewayUrls[0]!);
    const token = 'x'.repeat(200);
    await Promise.all(
      Array.from({ length: 30 }, () =>
        new Promise<void>((resolve) => {
          const socket = connect(Number(port), '127.0.0.1', () => {
            socket.write(`GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: chorus.v2, chorus.bearer.${token}\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
            socket.resetAndDestroy();
            resolve();
          });
          socket.on('error', () => resolve());
        }),
      ),
    );
    assert.equal((await client.request({ type: 'ping' })).type, 'pong', 'the gateway still serves its sockets');
    const fresh = await ChatClient.login(platform.gatewayUrls[0]!, 'erin');
    await fresh.close();
  });

  test('a socket that stops answering pings is closed, one that answers stays', { timeout: 15_000 }, async () => {
    const token = await devToken(platform.gatewayUrls[0]!, 'ghost');
    const ghost = new WebSocket(`${platform.gatewayUrls[0]!.replace(/^http/, 'ws')}/ws`, clientSubprotocols(token), { autoPong: false });
    const closed = new Promise<number>((resolve) => ghost.on('close', (code) => resolve(code)));
    await closed;
    assert.equal((await client.request({ type: 'ping' })).type, 'pong', 'a socket that answers pings is still open');
  });
});

/** One raw HTTP exchange; resolves with what the server answered before closing. */
function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}
