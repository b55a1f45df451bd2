#!/usr/bin/env node
// The probes of the security review (issue 9), replayed against a fresh local platform in jwt
// mode (as production runs: no name-only login) with every gateway behind one address. Each line
// says what a hostile client tried and what happened; the exit code is 1 if any probe did harm.
// Usage: node scripts/security-probes.mjs   (after `npm run build`; about a minute)
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { startPlatform } from '../local/dist/src/platform.js';
import { clientSubprotocols } from '../shared/dist/src/protocol/auth-subprotocol.js';

const dataDir = mkdtempSync(join(tmpdir(), 'chorus-probes-'));
const platform = await startPlatform({ dataDir, gateways: 2, messageServices: 2, sharedPort: 0, authMode: 'jwt' });
const url = platform.url;
const key = new TextEncoder().encode(platform.tokenSecret);
let harmed = 0;

function report(probe, outcome, ok) {
  if (!ok) harmed++;
  console.log(`${ok ? 'held ' : 'HARM '} ${probe}\n       ${outcome}`);
}

/** A token as an application backend would issue it (iss/aud chorus, HS256 with the shared key). */
function token(user, { exp = '10m', jti } = {}) {
  let jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(user).setIssuer('chorus').setAudience('chorus').setIssuedAt();
  if (exp) jwt = jwt.setExpirationTime(exp);
  if (jti) jwt = jwt.setJti(jti);
  return jwt.sign(key);
}

/** Opens a socket; resolves once the welcome arrived (or with the refusal); `closeCode` follows it. */
function open(user, { jwt, origin, path = '/ws' } = {}) {
  return new Promise(async (resolve) => {
    const client = { frames: [], closeCode: undefined };
    const ws = new WebSocket(`${url.replace('http', 'ws')}${path}`, clientSubprotocols(jwt ?? (await token(user))), origin ? { origin } : {});
    client.ws = ws;
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data));
      client.frames.push(frame);
      if (frame.type === 'welcome') resolve(Object.assign(client, { gateway: frame.gateway }));
    });
    ws.on('unexpected-response', (_, response) => resolve({ refused: response.statusCode }));
    ws.on('close', (code) => {
      client.closeCode = code;
      resolve(client);
    });
    ws.on('error', () => {});
  });
}

let rid = 0;
function request(client, frame, timeoutMs = 10_000) {
  const id = ++rid;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ type: 'timeout' }), timeoutMs);
    const onMessage = (data) => {
      const reply = JSON.parse(String(data));
      if (reply.rid !== id) return;
      clearTimeout(timer);
      client.ws.off('message', onMessage);
      resolve(reply);
    };
    client.ws.on('message', onMessage);
    client.ws.send(JSON.stringify({ ...frame, rid: id }));
  });
}

/** Writes a raw HTTP request to the one address and resolves with the status line of the answer. */
function rawStatusLine(request) {
  return new Promise((resolve) => {
    const socket = connect(Number(new URL(url).port), '127.0.0.1', () => socket.write(request));
    socket.once('data', (data) => {
      resolve(String(data).split('\r\n', 1)[0]);
      socket.destroy();
    });
    socket.on('error', () => resolve('error'));
  });
}

const ready = async () => {
  const answers = await Promise.all(platform.gatewayUrls.map((u) => fetch(`${u}/readyz`).then((r) => r.ok, () => false)));
  return answers.every(Boolean);
};
const pids = () => platform.processes().filter((p) => /^(gateway|message-service)-/.test(p.name)).map((p) => p.pid).join(',');
const startPids = pids();

try {
  // critical: name-only login
  const login = await fetch(`${url}/api/login`, { method: 'POST', body: JSON.stringify({ user: 'alice' }) });
  report('POST /api/login {"user":"alice"} in production (jwt) mode', `HTTP ${login.status} ${await login.text()}`, login.status === 404);
  const forged = await open('alice', { jwt: await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuer('chorus').setAudience('chorus').setExpirationTime('10m').sign(new TextEncoder().encode('x'.repeat(32))) });
  report('a token signed with another key', `upgrade answered HTTP ${forged.refused}`, forged.refused === 401);
  const noExp = await open('alice', { jwt: await token('alice', { exp: null }) });
  report('a token without exp', `upgrade answered HTTP ${noExp.refused}`, noExp.refused === 401);

  // critical: one request kills a gateway
  const raw = await rawStatusLine('GET // HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  report('GET // with Upgrade headers, unauthenticated', `answered "${raw}"; every gateway ready afterwards: ${await ready()}`, (await ready()) && raw.includes('400'));
  const jwt = await token('resetter');
  for (let i = 0; i < 50; i++) {
    await new Promise((resolve) => {
      const socket = connect(Number(new URL(url).port), '127.0.0.1', () => {
        socket.write(`GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${clientSubprotocols(jwt).join(', ')}\r\n\r\n`);
        socket.resetAndDestroy();
        resolve();
      });
      socket.on('error', resolve);
    });
  }
  report('50 connections reset (RST) while their token is checked', `every gateway ready afterwards: ${await ready()}`, await ready());

  // token in the URL, Origin, metrics, headers
  const inUrl = await rawStatusLine(`GET /ws?token=${jwt} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  report('the token in the URL (?token=)', `answered "${inUrl}"`, inUrl.includes('400'));
  const evil = await open('alice', { origin: 'https://evil.example' });
  report('a page on another origin opens a socket', `upgrade answered HTTP ${evil.refused}`, evil.refused === 403);
  const metrics = await fetch(`${url}/metrics`);
  const internal = await fetch(`${platform.gatewayMetricsUrls[0]}/metrics`);
  report('GET /metrics on the public port', `public port HTTP ${metrics.status}; internal port HTTP ${internal.status}`, metrics.status === 404 && internal.status === 200);
  const page = await fetch(`${url}/`);
  const csp = page.headers.get('content-security-policy') ?? '';
  report('the chat page framed or running inline script', `CSP "${csp}", X-Frame-Options ${page.headers.get('x-frame-options')}`, csp.includes("frame-ancestors 'none'") && !csp.includes('unsafe-inline'));
  const trickleStart = Date.now();
  const trickled = await new Promise((resolve) => {
    const socket = connect(Number(new URL(url).port), '127.0.0.1', () => socket.write('POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{'));
    const drip = setInterval(() => socket.write(' '), 1000);
    socket.on('close', () => {
      clearInterval(drip);
      resolve(Date.now() - trickleStart);
    });
    socket.on('error', () => {});
    setTimeout(() => socket.destroy(), 60_000);
  });
  report('a request body trickled one byte a second', `connection cut after ${(trickled / 1000).toFixed(1)} s`, trickled < 30_000);

  // high: rooms without authorization
  const alice = await open('alice');
  const mallory = await open('mallory');
  await request(alice, { type: 'create', room: 'secret', visibility: 'private' });
  await request(alice, { type: 'send', room: 'secret', clientMsgId: 's1', text: 'the plan' });
  const sneak = await request(mallory, { type: 'join', room: 'secret' });
  const peek = await request(mallory, { type: 'history', room: 'secret' });
  report("mallory joins and reads alice's private room by its name", `join: ${sneak.code}; history: ${peek.code}`, sneak.code === 'not_invited' && peek.code === 'not_member');

  // high: one member's history reply larger than NATS allows
  await request(alice, { type: 'create', room: 'wide' });
  for (let i = 0; i < 50; i++) await request(alice, { type: 'send', room: 'wide', clientMsgId: `w${i}`, text: '\u0001'.repeat(4000) });
  const wide = await request(alice, { type: 'history', room: 'wide', limit: 200 });
  report('50 messages of 4,000 control characters, then one history request', `answered ${wide.type} with ${wide.messages?.length} messages; every gateway ready: ${await ready()}`, wide.type === 'history' && (await ready()));

  // high: no limits
  const flooder = await open('flooder');
  const calm = await open('calm');
  await request(flooder, { type: 'create', room: 'flood' });
  await request(calm, { type: 'create', room: 'calm' });
  const answers = { ack: 0, rate_limited: 0, other: 0 };
  flooder.ws.on('message', (data) => {
    const frame = JSON.parse(String(data));
    if (frame.type === 'ack') answers.ack++;
    else if (frame.code === 'rate_limited') answers.rate_limited++;
    else if (frame.type === 'error') answers.other++;
  });
  for (let i = 0; i < 20_000; i++) flooder.ws.send(JSON.stringify({ type: 'send', room: 'flood', clientMsgId: `f${i}`, text: 'spam' }));
  const calmStart = performance.now();
  const calmAck = await request(calm, { type: 'send', room: 'calm', clientMsgId: 'c1', text: 'hello' });
  const calmMs = performance.now() - calmStart;
  const deadline = Date.now() + 60_000;
  while (answers.ack + answers.rate_limited + answers.other < 20_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  report('one socket sends 20,000 messages at once', `${answers.ack} acked, ${answers.rate_limited} rate_limited, ${answers.other} other; another user's send meanwhile: ${calmAck.type} in ${calmMs.toFixed(0)} ms`, answers.ack <= 200 && calmAck.type === 'ack');
  let created = 0;
  let refusedCreate;
  for (let i = 0; i < 60 && !refusedCreate; i++) {
    const reply = await request(mallory, { type: 'create', room: `spam-${i}` });
    if (reply.type === 'joined') created++;
    else if (reply.code === 'rate_limited') await new Promise((r) => setTimeout(r, reply.retryAfterMs));
    else refusedCreate = `${reply.code} (${reply.limit})`;
  }
  report('one user creates rooms in a loop', `${created} created, then ${refusedCreate}`, refusedCreate?.startsWith('limit_exceeded') && created <= 50);
  const many = [];
  for (let i = 0; i < 30; i++) many.push(await open('hoarder'));
  const deadlineSockets = Date.now() + 10_000;
  while (many.filter((s) => s.closeCode !== undefined).length < 10 && Date.now() < deadlineSockets) await new Promise((r) => setTimeout(r, 50));
  const opened = many.filter((s) => s.ws.readyState === WebSocket.OPEN).length;
  const codes = [...new Set(many.flatMap((s) => (s.closeCode === undefined ? [] : [s.closeCode])))];
  report('one user opens 30 sockets', `${opened} open; ${30 - opened} closed with ${codes.join(', ') || 'nothing'}`, opened <= 20 && codes.every((c) => c === 4429));
  for (const s of many) s.ws?.close();

  // low: revocation of a live socket
  const victim = await open('victim', { jwt: await token('victim', { jti: 'stolen-1' }) });
  const closed = new Promise((resolve) => victim.ws.once('close', resolve));
  const otherGateway = victim.gateway === 'gateway-1' ? 1 : 0; // gatewayMetricsUrls are in gateway order
  const revoke = await fetch(`${platform.gatewayMetricsUrls[otherGateway]}/admin/revoke`, { method: 'POST', headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ jti: 'stolen-1' }) });
  const code = await Promise.race([closed, new Promise((r) => setTimeout(() => r('still open'), 10_000))]);
  report(`a stolen token (jti) revoked on gateway-${otherGateway + 1}'s admin port (HTTP ${revoke.status})`, `the live socket on ${victim.gateway} closed with ${code}`, code === 4002);

  for (const c of [alice, mallory, flooder, calm]) c.ws.close();
  report('after every probe', `every gateway ready: ${await ready()}; service pids unchanged (no crash, no restart): ${pids() === startPids}`, (await ready()) && pids() === startPids);
} finally {
  await platform.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
console.log(harmed === 0 ? '\nno probe did harm' : `\n${harmed} probe(s) did harm`);
process.exit(harmed === 0 ? 0 : 1);
