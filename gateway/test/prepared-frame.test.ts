import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { PreparedFrame } from '../src/connection/prepared-frame.js';
import { corkUntilTurnEnds } from '../src/connection/turn-cork.js';

/** A real ws server socket (and the TCP socket under it) with a real ws client connected to it. */
async function pair() {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const server = createServer();
  const accepted = new Promise<{ ws: WebSocket; socket: Duplex }>((resolve) => {
    server.on('upgrade', (request, socket: Duplex, head) => wss.handleUpgrade(request, socket, head, (ws) => resolve({ ws, socket })));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, { perMessageDeflate: false });
  const received: string[] = [];
  client.on('message', (data, isBinary) => {
    assert.equal(isBinary, false, 'a prepared frame is a text frame');
    received.push(data.toString());
  });
  await new Promise((resolve) => client.once('open', resolve));
  const { ws, socket } = await accepted;
  const close = async () => {
    client.close();
    await new Promise((resolve) => client.once('close', resolve));
    wss.close();
    server.close();
  };
  return { ws, socket, received, close };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

test('prepared frames of every length class reach a ws client intact, in order with frames ws sends itself', async () => {
  const { ws, socket, received, close } = await pair();
  // 7-bit, 16-bit and 64-bit payload lengths (RFC 6455 §5.2), multi-byte UTF-8 counted in bytes.
  const texts = ['{"a":1}', 'é'.repeat(125), 'x'.repeat(126), 'ü'.repeat(40_000), 'y'.repeat(70_000)];
  for (const [i, text] of texts.entries()) {
    socket.write(new PreparedFrame(text).wire);
    ws.send(`ws-${i}`);
  }
  await until(() => received.length === texts.length * 2);
  assert.deepEqual(received, texts.flatMap((text, i) => [text, `ws-${i}`]));
  await close();
});

test('writes to a socket are held until the end of the turn, then leave together and in order', async () => {
  const { ws, socket, received, close } = await pair();
  const writable = socket as Duplex & { writableCorked: number };
  corkUntilTurnEnds(socket);
  corkUntilTurnEnds(socket); // a second frame in the same turn does not cork twice
  const frame = new PreparedFrame('{"type":"message","pos":1}');
  socket.write(frame.wire);
  ws.send('ack');
  socket.write(frame.wire);
  assert.equal(writable.writableCorked, 1, 'corked once for the turn');
  assert.ok(socket.writableLength >= 2 * frame.wire.length, 'the frames wait in the socket');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(writable.writableCorked, 0, 'uncorked when the turn ended');
  await until(() => received.length === 3);
  assert.deepEqual(received, [frame.json, 'ack', frame.json]);
  await close();
});
